"""Shared pieces of the benchmarks: the machine, timing of child commands, medians."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


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
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, Python {platform.python_version()}, {platform.system()}"
    )


@dataclass
class Timed:
    """Wall time and peak memory of a child command."""

    seconds: float
    peak_rss_mb: float
    stdout: str


def run_timed(argv: list[str], env: dict | None = None) -> Timed:
    """Run a command to completion; its wall time and the peak RSS of the child (and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{' '.join(argv[:3])}... failed with code {proc.returncode}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Timed(seconds, max(peak, before) / 1024, proc.stdout)


def median(values: list[float]) -> float:
    return statistics.median(values)
