"""Fault injection for the ingest: `ringledger ingest` killed with SIGKILL at random moments, then resumed.

The tests run a few seeded kills (`make test`); `python -m bench.soak` runs many. Each run starts
from an empty data home, kills the ingest after a random delay (sometimes the resumed one too),
lets the next run finish, and compares everything a user can see of the lake with one clean run,
order-independently: raw CDR and CMR rows, rejects, and the calls with their costs.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# the installed command, as people run it (`python -m ringledger.cli` would load the CLI module twice)
RINGLEDGER = [str(Path(sys.executable).with_name("ringledger"))]


def demo_files(out: Path, legs: int, days: int = 1, seed: int = 7, file_minutes: int = 1) -> Path:
    """Write the demo company's CDR/CMR files (and configuration) into `out`; the folder of the files."""
    if not (out / "ringledger.toml").exists():
        subprocess.run(
            [
                *RINGLEDGER,
                "demo",
                "--out",
                str(out),
                "--legs",
                str(legs),
                "--days",
                str(days),
                "--seed",
                str(seed),
                "--end",
                "2026-03-02T00:00:00+00:00",
                "--file-minutes",
                str(file_minutes),
            ],
            check=True,
            capture_output=True,
        )
    return out / "cdr"


def env_for(home: Path, config: Path) -> dict[str, str]:
    """The environment of a child command working on `home` with `config`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLEDGER_")}
    env.update({"RINGLEDGER_HOME": str(home), "RINGLEDGER_CONFIG": str(config)})
    return env


def _limit_file_size(limit: int):
    def apply() -> None:
        # writes past `limit` bytes fail with EFBIG instead of killing the process (as a full disk fails them)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def ingest(
    home: Path, config: Path, paths: list[Path], *, file_size_limit: int | None = None
) -> subprocess.CompletedProcess:
    """Run `ringledger ingest` to its end (optionally with writes limited to a file size)."""
    return subprocess.run(
        [*RINGLEDGER, "ingest", "--quiet", *map(str, paths)],
        env=env_for(home, config),
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size(file_size_limit) if file_size_limit else None,
        timeout=900,
    )


def start_ingest(home: Path, config: Path, paths: list[Path]) -> subprocess.Popen:
    """Start `ringledger ingest` in the background."""
    return subprocess.Popen(
        [*RINGLEDGER, "ingest", "--quiet", *map(str, paths)],
        env=env_for(home, config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def snapshot(lake_dir: Path) -> dict[str, list[tuple]]:
    """Everything a user can see of a lake, sorted: raw rows, rejects, calls with costs."""
    import warehouse

    con = warehouse.connect(lake_dir=lake_dir)
    queries = {
        "cdr": "select pkid, source_file, source_line from cdr",
        "cmr": "select pkid, source_file, source_line from cmr",
        "rejects": "select source_file, source_line, reason from rejects",
        "calls": "select pkid, leg_role, extension, direction, duration_s, cast(cost as varchar), rate_ref, "
        "destination_type, coalesce(mos, -1) from calls",
    }
    out = {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in queries.items()}
    con.close()
    return out


def differences(expected: dict[str, list[tuple]], got: dict[str, list[tuple]]) -> list[str]:
    """What differs between two snapshots, one line per dataset."""
    out = []
    for name in expected:
        a, b = expected[name], got.get(name, [])
        if a != b:
            missing, extra = len(set(a) - set(b)), len(set(b) - set(a))
            out.append(f"{name}: {len(a)} rows expected, {len(b)} found ({missing} missing, {extra} extra)")
    return out


@dataclass
class KillRun:
    """One run: when the ingests were killed, and whether the lake ended as after a clean run."""

    seed: int
    delays: list[float] = field(default_factory=list)
    killed: int = 0
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def identical(self) -> bool:
        """True when the lake matches the clean run exactly."""
        return not self.differences


def kill_run(
    work: Path, config: Path, paths: list[Path], expected: dict, clean_seconds: float, seed: int, max_kills: int = 2
) -> KillRun:
    """One seeded run: up to `max_kills` SIGKILLs at random delays, then an ingest that finishes."""
    import warehouse

    rng = random.Random(seed)
    home = work / f"kill-{seed}"
    home.mkdir(parents=True)
    run = KillRun(seed)
    started = time.perf_counter()
    for _ in range(rng.randint(1, max_kills)):
        delay = rng.uniform(0.05, clean_seconds)
        proc = start_ingest(home, config, paths)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            run.killed += 1
        proc.wait()
        run.delays.append(round(delay, 2))
    done = ingest(home, config, paths)
    if done.returncode != 0:
        run.differences.append(f"the ingest after the kill failed: {done.stderr.strip()[-400:]}")
    else:
        run.differences = differences(expected, snapshot(home / "lake"))
    warehouse.views.reset()
    run.seconds = time.perf_counter() - started
    return run


def clean_run(work: Path, config: Path, paths: list[Path]) -> tuple[dict, float]:
    """The snapshot of one uninterrupted ingest and how long it took (seconds)."""
    home = work / "clean"
    home.mkdir(parents=True)
    started = time.perf_counter()
    done = ingest(home, config, paths)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the clean ingest failed: {done.stderr}")
    return snapshot(home / "lake"), seconds
