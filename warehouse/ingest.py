"""Ingest CUCM CDR/CMR files: archive, ledger, parse, publish raw partitions, rebuild the days touched.

The same code serves `ringledger ingest PATH...` and the pipeline's inbox sensor. Every step is
restartable: a file is archived before it is parsed, a batch's parts are staged before they are
published, and the ledger says which batch each file belongs to; a run killed anywhere leaves the
published lake as it was, and the next run completes or redoes the interrupted batch. A file whose
checksum is already in the ledger changes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import sqlalchemy as sa
import sqlalchemy.exc

from warehouse import appdb
from warehouse.appdb import dirty_day, ingest_batch, ingest_file, utcnow
from warehouse.calls import build_days
from warehouse.config import Settings
from warehouse.cucm import REJECT_SCHEMA, Parser, SourceFile, is_complete_name, read_source, sniff
from warehouse.lake import Lake, LakeWriter, partition_dir, write_atomic

Progress = Callable[[str, dict], None]


class IngestError(Exception):
    """An ingest stopped because something could not be written or read (a full disk, a file too large)."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        code = errno.errorcode.get(exc.errno or 0, "")
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{f' ({code})' if code else ''}{where}"
    return str(exc).strip().splitlines()[0]


@contextlib.contextmanager
def _doing(what: str) -> Iterator[None]:
    """Turn a storage failure during `what` into an IngestError that says what failed and what to do."""
    try:
        yield
    except IngestError:
        raise
    except (OSError, duckdb.IOException, sqlalchemy.exc.OperationalError) as exc:
        raise IngestError(
            f"ingest stopped while {what}: {_reason(exc)}. Nothing loaded before is lost and no file was "
            "removed; run the ingest again once this is solved and it completes this run"
        ) from exc


@dataclass
class IngestReport:
    """What one ingest run did."""

    files: int = 0
    loaded: int = 0
    duplicates: int = 0
    incomplete: int = 0
    not_cdr: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cdr_rows: int = 0
    cmr_rows: int = 0
    rejects: int = 0
    bytes: int = 0
    days: set[str] = field(default_factory=set)
    calls_rows: int = 0
    rebuilt_days: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def legs_per_second(self) -> float:
        return self.cdr_rows / self.seconds if self.seconds else 0.0


def _walk(folder: str) -> Iterator[str]:
    """Complete data files under a folder, in name order; folders named '.x' or '_x' are not entered."""
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if not is_complete_name(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path)
        elif entry.is_file():
            yield entry.path


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Every complete data file under the given files and folders (skips '_' and hidden names)."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from map(Path, _walk(str(path)))
        elif path.is_file():
            if is_complete_name(path.name):
                yield path
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")


def _scratch_dir(stage: Path) -> Path:
    """Where a batch's concatenated CSV buffer goes: memory-backed /dev/shm when there is one."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return stage / "scratch"


def _looks_like_cucm(src: SourceFile) -> bool:
    return bool(src.file_name) or (bool(src.names) and not src.error)


class Ingestor:
    """Runs ingests against one data home (settings, app database and lake)."""

    def __init__(self, settings: Settings, progress: Progress | None = None):
        self.settings = settings
        self.engine = appdb.open_db(settings)
        self.lake = Lake(settings.lake_dir)
        self.progress = progress or (lambda event, data: None)

    # -- public entry points -------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path], *, move: bool = False, settle_seconds: float = 0.0) -> IngestReport:
        """Ingest files and folders; with `move`, delete each source once its data is safe."""
        started = time.perf_counter()
        report = IngestReport()
        with self.lake.writer() as writer:
            with _doing("finishing an interrupted earlier run"):
                self._recover(writer, report)
            chunk: list[Path] = []
            chunk_bytes = 0
            for path in discover(paths):
                report.files += 1
                chunk.append(path)
                chunk_bytes += path.stat().st_size + 4096
                if chunk_bytes >= self.settings.ingest.batch_bytes:
                    self._ingest_chunk(writer, chunk, report, move=move, settle_seconds=settle_seconds)
                    chunk, chunk_bytes = [], 0
            if chunk:
                self._ingest_chunk(writer, chunk, report, move=move, settle_seconds=settle_seconds)
            self._rebuild_dirty(writer, report)
            writer.collect_garbage()
        report.seconds = time.perf_counter() - started
        return report

    def pending_days(self) -> list[date]:
        """UTC days whose calls must be rebuilt (raw data changed since their last build)."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(dirty_day.c.day).order_by(dirty_day.c.day))]

    # -- steps -----------------------------------------------------------------------------------
    def _ingest_chunk(
        self, writer: LakeWriter, paths: list[Path], report: IngestReport, *, move: bool, settle_seconds: float
    ) -> None:
        batch = self._accept(paths, report, move=move, settle_seconds=settle_seconds)
        if batch:
            self._run_batch(writer, batch, report)

    def _accept(
        self, paths: list[Path], report: IngestReport, *, move: bool, settle_seconds: float
    ) -> list[tuple[SourceFile, Path | None]]:
        """Read and checksum files, skip duplicates and incomplete ones, archive the rest, record them."""
        sources: list[tuple[SourceFile, Path]] = []
        clock = time.time()
        for path in paths:
            with path.open("rb") as fh:
                before = os.fstat(fh.fileno())
                if settle_seconds and clock - before.st_mtime < settle_seconds:
                    report.incomplete += 1
                    continue
                data = fh.read()
                after = os.fstat(fh.fileno())
            if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(data) != after.st_size:
                # still being written: leave it for the next run
                report.incomplete += 1
                continue
            src = sniff(path.name, data)
            src.path = path
            if not _looks_like_cucm(src):
                report.not_cdr.append(str(path))
                self.progress("skipped", {"file": str(path), "reason": src.error or "not a CUCM CDR/CMR file"})
                continue
            sources.append((src, path))
        known: dict[str, str] = {}
        with self.engine.connect() as conn:
            checksums = [s.checksum for s, _ in sources]
            for i in range(0, len(checksums), 500):
                known.update(
                    conn.execute(
                        sa.select(ingest_file.c.checksum, ingest_file.c.status).where(
                            ingest_file.c.checksum.in_(checksums[i : i + 500])
                        )
                    ).all()
                )
        self._continuations([s for s, _ in sources if s.checksum not in known])
        accepted: list[tuple[SourceFile, Path | None]] = []
        rows = []
        seen: set[str] = set()
        now = utcnow()
        for src, path in sources:
            if src.checksum in known or src.checksum in seen:
                report.duplicates += 1
                if move and known.get(src.checksum) == "loaded":
                    path.unlink(missing_ok=True)
                continue
            seen.add(src.checksum)
            with _doing(f"writing the archive copy of {src.name} under {self.settings.archive_dir}"):
                archived = self._archive(src, path if move else None)
            fn = src.file_name
            rows.append(
                {
                    "name": src.name,
                    "checksum": src.checksum,
                    "size": len(src.data),
                    "kind": src.kind or None,
                    "cluster": fn.cluster if fn else None,
                    "node": fn.node if fn else None,
                    "file_time": fn.file_time if fn else None,
                    "received_at": now,
                    "archive_path": str(archived),
                    "status": "pending",
                }
            )
            src.path = archived
            report.bytes += len(src.data)
            accepted.append((src, path if move else None))
        if rows:
            with (
                _doing("recording the received files in the ingest ledger (app database)"),
                self.engine.begin() as conn,
            ):
                conn.execute(ingest_file.insert(), rows)
        return accepted

    def _continuations(self, sources: list[SourceFile]) -> None:
        """Mark files that are a longer (or shorter) version of a file already loaded under the same name.

        A transfer cut short loads as a file whose last line is cut (that line is rejected); when the
        whole file arrives later under the same name, its lines already loaded are skipped, the cut
        line's reject is withdrawn and the rest loads, so every line counts once. A version that is
        a prefix of one already loaded adds nothing. Versions that differ otherwise load as they are.
        """
        names = sorted({s.name for s in sources})
        if not names:
            return
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(ingest_file.c.name, ingest_file.c.checksum, ingest_file.c.archive_path).where(
                    ingest_file.c.name.in_(names), ingest_file.c.status == "loaded"
                )
            ).all()
        earlier: dict[str, list[bytes]] = {}
        for name, _checksum, archive_path in rows:
            try:
                earlier.setdefault(name, []).append(Path(archive_path).read_bytes())
            except OSError:
                continue  # retention removed it: nothing to compare with
        for src in sources:
            versions = [v for v in earlier.get(src.name, []) if v != src.data]
            if src.data and any(v.startswith(src.data) for v in versions):
                src.loaded_lines = src.data.count(b"\n") + (0 if src.data.endswith(b"\n") else 1)
                continue
            shorter = [v for v in versions if src.data.startswith(v)]
            if not shorter:
                continue
            before = max(shorter, key=len)
            src.loaded_lines = before.count(b"\n")
            if not before.endswith(b"\n") and not self._rejected(src, src.loaded_lines + 1):
                src.loaded_lines += 1  # the last line was whole even without its line end, and loaded
            self.progress("continued", {"file": src.name, "from_line": src.loaded_lines + 1})

    def _rejected(self, src: SourceFile, line: int) -> bool:
        files = self.lake.files("rejects", [src.fallback_day])
        if not files:
            return False
        table = pq.read_table(files, columns=["source_file", "source_line"], partitioning=None)
        return any(f == src.name and n == line for f, n in zip(*(c.to_pylist() for c in table.columns), strict=True))

    def _archive(self, src: SourceFile, origin: Path | None = None) -> Path:
        """Keep the file as received under archive/YYYY/MM/DD (a hard link when it is moving anyway)."""
        when = src.file_name.file_time if src.file_name else datetime.now(UTC)
        folder = self.settings.archive_dir / f"{when:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / src.name
        if target.exists() and target.read_bytes() != src.data:
            target = folder / f"{src.name}.{src.checksum[:12]}"
        if not target.exists():
            tmp = folder / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
            try:
                if origin is None:
                    raise OSError("copy")
                os.link(origin, tmp)
            except OSError:
                tmp.write_bytes(src.data)
            tmp.replace(target)
        return target

    def _run_batch(self, writer: LakeWriter, batch: list[tuple[SourceFile, Path | None]], report: IngestReport) -> None:
        batch_id = f"b{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        sources = [s for s, _ in batch]
        with _doing(f"recording batch {batch_id} in the ingest ledger (app database)"), self.engine.begin() as conn:
            conn.execute(
                ingest_batch.insert().values(id=batch_id, started_at=utcnow(), status="processing", files=len(sources))
            )
            conn.execute(
                ingest_file.update()
                .where(ingest_file.c.checksum.in_([s.checksum for s in sources]))
                .values(batch_id=batch_id, status="processing")
            )
        self.progress("parsing", {"batch": batch_id, "files": len(sources)})
        with _doing(f"parsing batch {batch_id} ({len(sources)} files) into {self.lake.root / '_staging'}"):
            stage = self.lake.staging_dir(batch_id)
            parsed = Parser(stage, scratch=_scratch_dir(stage)).parse(sources, batch_id)
            staged: dict[str, dict[str, list[str]]] = {
                dataset: {day: [str(p) for p in paths] for day, paths in days.items()}
                for dataset, days in parsed.staged.items()
            }
            cdr_rows, cmr_rows = parsed.rows("cdr"), parsed.rows("cmr")
            withdrawn = self._withdrawn_rejects(sources)
            replaced: dict[str, list[str]] = {}
            if parsed.rejects.num_rows or withdrawn:
                staged["rejects"] = {}
                frame = pl.DataFrame(parsed.rejects)
                days = sorted(set(frame["day"].cast(pl.String).to_list()) | set(withdrawn))
                for day in days:
                    part = frame.filter(pl.col("day").cast(pl.String) == day)
                    target = stage / "rejects" / f"{batch_id}-{day}.parquet"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if day in withdrawn:
                        # the day's rejects again, less the lines a longer version of their file now loads
                        part = pl.concat([withdrawn[day], part], how="vertical_relaxed")
                        replaced[day] = [str(target)]
                    else:
                        staged["rejects"].setdefault(day, []).append(str(target))
                    pq.write_table(part.to_arrow(), target, compression="zstd")
            stats = {
                "files": {
                    s.checksum: {
                        "rows": parsed.files[s.name].rows,
                        "rejects": parsed.files[s.name].rejects,
                        "days": sorted(parsed.files[s.name].days),
                        "kind": parsed.files[s.name].kind,
                        "error": parsed.files[s.name].error,
                    }
                    for s in sources
                },
                "staged": staged,
                "replace": {"rejects": replaced} if replaced else {},
                "cmr_orphan_days": sorted(parsed.cmr_orphan_days),
            }
            # atomic: a half-written stats file (a full disk) must not pass for a finished batch
            write_atomic(stage / "stats.json", json.dumps(stats).encode())
        with _doing(f"publishing batch {batch_id} into the lake ({self.lake.root})"):
            self._publish(writer, batch_id, stats)
        for src, origin in batch:
            if origin is not None and src.path is not None:
                # the archive copy must be on disk before the only other copy goes
                with src.path.open("rb") as fh:
                    os.fsync(fh.fileno())
        for src, origin in batch:
            if origin is not None:
                origin.unlink(missing_ok=True)
            res = parsed.files[src.name]
            if res.error:
                report.failed.append((src.name, res.error))
            else:
                report.loaded += 1
            report.rejects += res.rejects
            report.days.update(res.days)
        report.cdr_rows += cdr_rows
        report.cmr_rows += cmr_rows
        self.progress(
            "batch",
            {
                "batch": batch_id,
                "files": len(sources),
                "cdr_rows": report.cdr_rows,
                "rejects": report.rejects,
            },
        )

    def _withdrawn_rejects(self, sources: list[SourceFile]) -> dict[str, pl.DataFrame]:
        """Per day, the rejects that stay once the continued files' lines past what was loaded are withdrawn."""
        cut: dict[str, dict[str, int]] = {}
        for src in sources:
            if src.loaded_lines and src.loaded_lines > src.header_lines:
                cut.setdefault(str(src.fallback_day), {})[src.name] = src.loaded_lines
        out = {}
        for day, names in cut.items():
            files = self.lake.files("rejects", [day])
            if not files:
                continue
            old = pl.DataFrame(pq.read_table(files, partitioning=None).select(REJECT_SCHEMA.names))
            pairs = zip(old["source_file"], old["source_line"], strict=True)
            keep = pl.Series([f not in names or n <= names[f] for f, n in pairs], dtype=pl.Boolean)
            if not keep.all():
                out[day] = old.filter(keep)
        return out

    def _publish(self, writer: LakeWriter, batch_id: str, stats: dict) -> None:
        """Publish a staged batch and close it in the ledger (also used to finish an interrupted one)."""
        for dataset, days in stats.get("replace", {}).items():
            base = self.lake.dataset_dir(dataset)
            replace = {
                day: [Path(p) for p in paths if Path(p).exists() or (base / partition_dir(day) / Path(p).name).exists()]
                for day, paths in days.items()
            }
            writer.publish(dataset, replace=replace)
        for dataset, days in stats["staged"].items():
            base = self.lake.dataset_dir(dataset)
            # a file a crashed run already moved into its partition is found there and listed now
            adds = {
                day: [Path(p) for p in paths if Path(p).exists() or (base / partition_dir(day) / Path(p).name).exists()]
                for day, paths in days.items()
            }
            adds = {d: ps for d, ps in adds.items() if ps}
            if adds:
                writer.publish(dataset, add=adds)
        touched: set[date] = set()
        for dataset, days in stats["staged"].items():
            for day in days:
                d = date.fromisoformat(day)
                if dataset == "raw_cdr":
                    touched.add(d)
                elif dataset == "raw_cmr":
                    # a CMR is stamped when the phone hangs up: it belongs to a call of that day or the day
                    # before. Its CDR, written at the same hang-up, usually comes in the same batch and marks
                    # the call's day itself; only CMRs without one make the day before a candidate too.
                    touched.add(d)
                    if day in stats.get("cmr_orphan_days", [day]):
                        touched.add(d - timedelta(days=1))
        now = utcnow()
        with _doing(f"closing batch {batch_id} in the ingest ledger (app database)"), self.engine.begin() as conn:
            total_rows = total_rejects = 0
            updates = []
            for checksum, res in stats["files"].items():
                total_rows += res["rows"]
                total_rejects += res["rejects"]
                updates.append(
                    {
                        "b_checksum": checksum,
                        "status": "failed" if res["error"] else "loaded",
                        "rows": res["rows"],
                        "rejects": res["rejects"],
                        "days": ",".join(res["days"]),
                        "kind": res["kind"] or None,
                        "error": res["error"] or None,
                        "loaded_at": now,
                    }
                )
            if updates:
                conn.execute(ingest_file.update().where(ingest_file.c.checksum == sa.bindparam("b_checksum")), updates)
            conn.execute(
                ingest_batch.update()
                .where(ingest_batch.c.id == batch_id)
                .values(status="published", finished_at=now, rows=total_rows, rejects=total_rejects)
            )
            existing = {r[0] for r in conn.execute(sa.select(dirty_day.c.day).where(dirty_day.c.day.in_(touched)))}
            for d in sorted(touched - existing):
                conn.execute(dirty_day.insert().values(day=d, marked_at=now))
        shutil.rmtree(self.lake.root / "_staging" / batch_id, ignore_errors=True)

    def _recover(self, writer: LakeWriter, report: IngestReport) -> None:
        """Finish batches that were published but not closed; redo those that never were."""
        with self.engine.connect() as conn:
            open_batches = [
                r[0] for r in conn.execute(sa.select(ingest_batch.c.id).where(ingest_batch.c.status == "processing"))
            ]
        for batch_id in open_batches:
            stage = self.lake.root / "_staging" / batch_id
            stats_file = stage / "stats.json"
            published = any(
                Path(f).name.startswith(batch_id)
                for dataset in ("raw_cdr", "raw_cmr", "rejects")
                for f in self.lake.manifest(dataset).files()
            )
            if stats_file.exists():
                # Everything was staged: publishing (again) completes the batch exactly once.
                self._publish(writer, batch_id, json.loads(stats_file.read_text()))
                self.progress("recovered", {"batch": batch_id, "finished": True})
                continue
            if published:  # pragma: no cover - stats are written before anything is published
                raise RuntimeError(f"batch {batch_id} is published but its stats are missing")
            shutil.rmtree(stage, ignore_errors=True)
            with self.engine.begin() as conn:
                conn.execute(
                    ingest_batch.update()
                    .where(ingest_batch.c.id == batch_id)
                    .values(status="aborted", finished_at=utcnow())
                )
                conn.execute(
                    ingest_file.update()
                    .where(ingest_file.c.batch_id == batch_id)
                    .values(status="pending", batch_id=None)
                )
            self.progress("recovered", {"batch": batch_id, "finished": False})
        with self.engine.connect() as conn:
            pending = conn.execute(
                sa.select(ingest_file.c.name, ingest_file.c.archive_path).where(ingest_file.c.status == "pending")
            ).all()
        if pending:
            batch: list[tuple[SourceFile, Path | None]] = []
            for name, archive_path in pending:
                src = read_source(Path(archive_path), name=name)
                batch.append((src, None))
            self._continuations([s for s, _ in batch])
            self._run_batch(writer, batch, report)

    def _rebuild_dirty(self, writer: LakeWriter, report: IngestReport) -> None:
        days = self.pending_days()
        if not days:
            return
        self.progress("calls", {"days": len(days)})

        def step(i: int, n: int, day: date) -> None:
            self.progress("calls_day", {"done": i, "of": n, "day": str(day)})

        with _doing(f"building the calls of {len(days)} day(s) in {self.lake.root}"):
            report.calls_rows += build_days(writer, self.settings, days, progress=step)
        report.rebuilt_days += [str(d) for d in days]
        self.clear_dirty(days)

    def clear_dirty(self, days: Iterable[date]) -> None:
        """Mark days as rebuilt."""
        with self.engine.begin() as conn:
            conn.execute(dirty_day.delete().where(dirty_day.c.day.in_(list(days))))

    def rebuild_pending(self) -> list[str]:
        """Rebuild the calls of every day marked as changed; returns those days."""
        report = IngestReport()
        with self.lake.writer() as writer:
            self._rebuild_dirty(writer, report)
        return report.rebuilt_days


def rebuild_days(settings: Settings, days: list[date] | None = None) -> int:
    """Rebuild calls for the given days, or for every day that has raw CDR data."""
    lake = Lake(settings.lake_dir)
    if days is None:
        days = [date.fromisoformat(d) for d in lake.days("raw_cdr")]
    with lake.writer() as writer:
        return build_days(writer, settings, days)


def reparse_day(settings: Settings, day: date) -> dict[str, int]:
    """Rebuild the raw CDR and CMR partitions of one UTC day from the archived files that touched it."""
    engine = appdb.open_db(settings)
    lake = Lake(settings.lake_dir)
    key = str(day)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ingest_file.c.name, ingest_file.c.archive_path, ingest_file.c.days).where(
                ingest_file.c.status == "loaded", ingest_file.c.days.contains(key)
            )
        ).all()
    sources = [read_source(Path(p), name=n) for n, p, days in rows if key in days.split(",")]
    counts = {"raw_cdr": 0, "raw_cmr": 0}
    with lake.writer() as writer:
        stage = lake.staging_dir(f"reparse-{key}-{uuid.uuid4().hex[:8]}")
        parsed = Parser(stage, scratch=_scratch_dir(stage)).parse(sources, f"reparse-{uuid.uuid4().hex[:8]}")
        for dataset in ("raw_cdr", "raw_cmr"):
            files = parsed.staged.get(dataset, {}).get(key, [])
            counts[dataset] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
            writer.publish(dataset, replace={key: files})
    with engine.begin() as conn:
        for d in (day, day - timedelta(days=1)):
            if not conn.execute(sa.select(dirty_day.c.day).where(dirty_day.c.day == d)).first():
                conn.execute(dirty_day.insert().values(day=d, marked_at=utcnow()))
    return counts
