"""The lake: Parquet files, Hive-partitioned by UTC day, with a manifest per dataset.

Only pipeline runs write here. A writer puts a complete new file next to the others and then swaps
the dataset's manifest (`_manifest.json`, replaced atomically with `os.replace`). Readers build their
views from the manifest, so they see a partition either before or after a change, never half of one;
files a manifest no longer lists are deleted only after a grace period, so a query already running
keeps its files. One writer at a time holds the lake lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

MANIFEST = "_manifest.json"
STAGING = "_staging"
# What retention did to the lake (warehouse.retention): the days it froze, and how far it anonymised.
RETENTION_STATE = "_retention.json"

# Every dataset the lake holds, and what it is.
DATASETS = {
    "raw_cdr": "CDR legs as CUCM wrote them, typed, one row per line",
    "raw_cmr": "CMR (call quality) records as CUCM wrote them, typed",
    "rejects": "lines that could not be parsed, with file, line, reason and raw text",
    "calls": "one row per CDR leg per internal party (the calls contract)",
    "daily_rollups": "cost, calls and minutes per day, extension, gateway and destination type",
    "directory": "snapshot of users and extension assignments from the app database",
    "numbers": "each distinct dialled number classified once per site dial plan (E.164, nation, type, area, operator)",
    "quarter_hours": "counted calls, missed calls, seconds and cost per 15 minutes (UTC), direction and currency",
    "offers": "each call offered to a line (incoming call analysis), with its outcome, per day of the first ring",
    "pilot_offers": "each call offered to a hunt pilot, with its outcome, per day of the first member's ring",
    "gateway_load": "each gateway's channels held per 15 minutes (UTC): seconds, seizures, legs and peak of calls up",
    "rating_days": "which tariff plan versions priced each day's calls, to find the days a tariff change affects",
}


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def partition_dir(day: date | str) -> str:
    """The Hive partition folder name of a UTC day."""
    return f"day={day}"


@dataclass(frozen=True)
class Manifest:
    """Which files make up a dataset, per partition (UTC day, or '' for an unpartitioned dataset)."""

    version: int
    partitions: dict[str, list[str]]

    def files(self) -> list[str]:
        """Every listed file, relative to the dataset folder, oldest partition first."""
        return [f for key in sorted(self.partitions) for f in self.partitions[key]]


class Lake:
    """A lake folder: manifests, atomic partition changes and the single-writer lock."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def dataset_dir(self, dataset: str) -> Path:
        if dataset not in DATASETS:
            raise KeyError(f"unknown lake dataset {dataset!r}")
        return self.root / dataset

    def manifest_path(self, dataset: str) -> Path:
        return self.dataset_dir(dataset) / MANIFEST

    def manifest(self, dataset: str) -> Manifest:
        """The dataset's current manifest (empty when nothing was ever written)."""
        path = self.manifest_path(dataset)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Manifest(0, {})
        return Manifest(int(raw["version"]), {k: list(v) for k, v in raw["partitions"].items()})

    def files(self, dataset: str, days: Iterable[date | str] | None = None) -> list[Path]:
        """Absolute paths of the dataset's current files, optionally only of some days."""
        m = self.manifest(dataset)
        base = self.dataset_dir(dataset)
        keys = sorted(m.partitions) if days is None else [str(d) for d in days]
        return [base / f for k in keys for f in m.partitions.get(k, [])]

    def days(self, dataset: str) -> list[str]:
        """The partitions (UTC days) that hold data."""
        return sorted(k for k, v in self.manifest(dataset).partitions.items() if v and k)

    def state_token(self) -> tuple:
        """Changes whenever any manifest changes (readers use it to refresh their views)."""
        token = []
        for name in DATASETS:
            try:
                st = (self.root / name / MANIFEST).stat()
                token.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                token.append((name, 0, 0, 0))
        return tuple(token)

    def retention_state(self) -> dict:
        """What retention recorded, such as `frozen_before` (an ISO day)."""
        try:
            return dict(json.loads((self.root / RETENTION_STATE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def frozen_before(self) -> date | None:
        """Days before this one are never rebuilt: retention purged their raw legs or anonymised them."""
        value = self.retention_state().get("frozen_before")
        return date.fromisoformat(value) if value else None

    @contextlib.contextmanager
    def writer(self, wait: bool = True) -> Iterator[LakeWriter]:
        """Hold the lake's write lock (one writer process at a time) for a series of changes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".writer.lock").open("a+") as fh:
            flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
            fcntl.flock(fh.fileno(), flags)
            try:
                yield LakeWriter(self)
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def staging_dir(self, name: str) -> Path:
        """A private folder for files that are written but not yet published."""
        path = self.root / STAGING / name
        path.mkdir(parents=True, exist_ok=True)
        return path


class LakeWriter:
    """Changes to the lake, made while holding its lock."""

    def __init__(self, lake: Lake):
        self.lake = lake

    def publish(
        self,
        dataset: str,
        add: dict[str, list[Path]] | None = None,
        replace: dict[str, list[Path]] | None = None,
    ) -> Manifest:
        """Move staged files into their partitions and swap the manifest in one step.

        `add` appends files to a partition; `replace` makes the given files the whole partition
        (an empty list empties it). Keys are UTC days as 'YYYY-MM-DD' ('' for unpartitioned data).
        """
        base = self.lake.dataset_dir(dataset)
        current = self.lake.manifest(dataset)
        parts = {k: list(v) for k, v in current.partitions.items()}
        for mode, changes in (("add", add or {}), ("replace", replace or {})):
            for key, files in changes.items():
                folder = base / partition_dir(key) if key else base
                folder.mkdir(parents=True, exist_ok=True)
                names = []
                for src in files:
                    dest = folder / src.name
                    if src != dest:
                        try:
                            src.replace(dest)
                        except FileNotFoundError:
                            # moved by a run that died before its manifest: publishing it again finishes that
                            if not dest.exists():
                                raise
                    names.append(str(dest.relative_to(base)))
                if mode == "add":
                    parts[key] = parts.get(key, []) + [n for n in names if n not in parts.get(key, [])]
                else:
                    for old in set(parts.get(key, [])) - set(names):
                        # Retired now: the grace period before deletion starts from this moment.
                        with contextlib.suppress(FileNotFoundError):
                            os.utime(base / old)
                    parts[key] = names
        parts = {k: v for k, v in parts.items() if v}
        manifest = Manifest(current.version + 1, parts)
        body = json.dumps({"version": manifest.version, "partitions": manifest.partitions}, indent=0)
        write_atomic(self.lake.manifest_path(dataset), body.encode())
        return manifest

    def set_retention_state(self, state: dict) -> None:
        """Record what retention did (replaced atomically)."""
        write_atomic(self.lake.root / RETENTION_STATE, json.dumps(state, indent=1, sort_keys=True).encode())

    def collect_garbage(self, grace_seconds: float = 900) -> int:
        """Delete data files no manifest lists any more, once they are older than the grace period."""
        removed = 0
        now = time.time()
        for dataset in DATASETS:
            base = self.lake.root / dataset
            if not base.exists():
                continue
            listed = {str(base / f) for f in self.lake.manifest(dataset).files()}
            for path in base.rglob("*.parquet"):
                if str(path) in listed:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    if now - path.stat().st_mtime >= grace_seconds:
                        path.unlink()
                        removed += 1
        staging = self.lake.root / STAGING
        if staging.exists():
            for path in staging.rglob("*"):
                with contextlib.suppress(FileNotFoundError, OSError):
                    if path.is_file() and now - path.stat().st_mtime >= grace_seconds:
                        path.unlink()
        return removed
