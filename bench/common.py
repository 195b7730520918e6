"""Shared pieces of the benchmarks: the machine and its load, timing of child commands, medians, results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = OUT / "results"


def machine() -> str:
    """One line describing the machine the figures were measured on."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, {platform.system()} {platform.release()}"
    )


def load() -> float:
    """The 1-minute load average (runnable processes; this machine has os.cpu_count() cores)."""
    return os.getloadavg()[0]


def wait_for_quiet(max_load: float, max_wait_s: float, label: str = "") -> float:
    """Wait (up to max_wait_s) until the 1-minute load is at most max_load; returns the load then."""
    deadline = time.monotonic() + max_wait_s
    now = load()
    while now > max_load and time.monotonic() < deadline:
        print(f"  load {now:.1f} > {max_load}: waiting before {label or 'the next measurement'} ...", file=sys.stderr)
        time.sleep(min(30.0, max(1.0, deadline - time.monotonic())))
        now = load()
    return now


@dataclass
class Timed:
    """Wall time, CPU time and peak memory of a child command."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # the largest single process
    peak_tree_mb: float  # the command and all its children together, sampled every 100 ms
    stdout: str
    load_before: float
    load_after: float


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_timed(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> Timed:
    """Run a command to completion: its wall time, CPU time (it and its children) and peak memory."""
    load_before = load()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not stop.wait(0.1):
            peak_tree = max(peak_tree, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = [
        threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for r in readers:
        r.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stop.set()
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write("".join(err_chunks)[-4000:])
        raise SystemExit(f"{' '.join(argv[:3])}... failed with code {proc.returncode}")
    return Timed(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        peak_tree_mb=peak_tree / 2**20,
        stdout="".join(out_chunks),
        load_before=load_before,
        load_after=load(),
    )


def median(values: list[float]) -> float:
    """The median of some measurements."""
    return statistics.median(values)


def save(name: str, data: dict) -> Path:
    """Keep one section's results (bench/out/results/NAME.json) for RESULTS.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = dict(data, measured_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), machine=machine())
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


def saved() -> dict[str, dict]:
    """Every section's kept results."""
    out = {}
    if RESULTS.exists():
        for path in sorted(RESULTS.glob("*.json")):
            out[path.stem] = json.loads(path.read_text())
    return out
