"""Ingest speed: demo CDR files to priced calls, beside DuckDB's bare read_csv of the same files.

    python -m bench.ingest [--legs 1000000] [--runs 3]

Generates the files once with `ringledger demo`, then, in the same run, times DuckDB counting the
rows with a bare `read_csv` and `ringledger ingest` loading them into a fresh data home (whole
command: parse, archive, ledger, calls, classification and rating). Prints legs/s, the ratio to the
baseline and the ingest's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench.common import OUT, machine, median, run_timed

TARGET_RATIO = 3.0  # ARCHITECTURE.md: within 3x of DuckDB's bare read_csv
TARGET_PEAK_GB = 3.0  # for 10M legs


def bare_read_csv(folder: Path) -> tuple[float, int]:
    """Seconds for DuckDB to count every CDR row of the files, and the count."""
    con = duckdb.connect()
    started = time.perf_counter()
    n = con.execute(
        "select count(*) from read_csv(?, all_varchar = true, header = true) where cdrRecordType <> 'INTEGER'",
        [str(folder / "cdr_*")],
    ).fetchone()[0]
    return time.perf_counter() - started, n


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="reuse or keep the generated files in this folder")
    args = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="rl-bench-ingest-"))
    files = args.keep or work / "cdr"
    try:
        if not (files.exists() and any(files.glob("cdr_*"))):
            print(f"generating {args.legs:,} legs with ringledger demo ...", file=sys.stderr)
            gen = run_timed(
                [str(bin_dir / "ringledger"), "demo", "--out", str(files), "--legs", str(args.legs),
                 "--days", str(args.days), "--seed", "7"]
            )  # fmt: skip
            print(f"  generated in {gen.seconds:.1f} s", file=sys.stderr)
        baseline, ingest, peaks, legs = [], [], [], 0
        for i in range(args.runs):
            secs, legs = bare_read_csv(files)
            baseline.append(secs)
            home = work / f"home{i}"
            home.mkdir()
            shutil.copy(files / "ringledger.toml", home / "ringledger.toml") if (
                files / "ringledger.toml"
            ).exists() else None
            env = dict(os.environ, RINGLEDGER_HOME=str(home))
            env.pop("RINGLEDGER_CONFIG", None)
            timed = run_timed([str(bin_dir / "ringledger"), "ingest", "--quiet", str(files)], env=env)
            ingest.append(timed.seconds)
            peaks.append(timed.peak_rss_mb)
            shutil.rmtree(home, ignore_errors=True)
            print(f"  run {i + 1}: read_csv {secs:.2f} s, ingest {timed.seconds:.2f} s", file=sys.stderr)
        result = {
            "machine": machine(),
            "legs": legs,
            "read_csv_s": median(baseline),
            "ingest_s": median(ingest),
            "ingest_legs_per_s": legs / median(ingest),
            "read_csv_rows_per_s": legs / median(baseline),
            "ratio": median(ingest) / median(baseline),
            "target_ratio": TARGET_RATIO,
            "peak_rss_mb": max(peaks),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "ingest.json").write_text(json.dumps(result, indent=1))
        print(
            f"{legs:,} legs: ingest {result['ingest_s']:.1f} s = {result['ingest_legs_per_s']:,.0f} legs/s; "
            f"DuckDB read_csv {result['read_csv_s']:.2f} s = {result['read_csv_rows_per_s']:,.0f} rows/s; "
            f"ratio {result['ratio']:.2f} (target <= {TARGET_RATIO}); peak memory {result['peak_rss_mb']:,.0f} MB\n"
            f"machine: {result['machine']}"
        )
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
