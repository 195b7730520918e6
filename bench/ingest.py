"""Ingest speed: demo CDR/CMR files to priced calls, beside DuckDB's bare read_csv of the same files.

    python -m bench.ingest [--legs 1000000] [--days 30] [--file-minutes 60] [--runs 3]

Generates the files once with `ringledger demo` (kept under bench/out/files), then, in the same run
and alternating, times DuckDB reading every CDR and CMR row of them with a bare `read_csv` and the
whole `ringledger ingest` command loading them into a fresh data home (archive, ledger, parse,
calls, classification and rating). Prints legs/s, the ratio to the baseline and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

from bench.build import END
from bench.common import OUT, load, median, run_timed, wait_for_quiet

TARGET_RATIO = 3.0  # ARCHITECTURE.md: within 3x of DuckDB's bare read_csv
TARGET_LEGS_PER_S = 200_000  # ... "about 200,000 legs/s here"
TARGET_PEAK_GB = 3.0  # for 10M legs
BIN = Path(sys.executable).parent


def demo_files(legs: int, days: int, file_minutes: int, root: Path | None = None) -> Path:
    """A folder of demo CUCM files (made once): cdr/ with the files, ringledger.toml and tariffs beside it."""
    folder = (root or OUT / "files") / f"demo-{legs}-{days}d-{file_minutes}m"
    stamp = folder / "bench-files.json"
    want = {"legs": legs, "days": days, "file_minutes": file_minutes, "end": END.isoformat(), "seed": 7}
    try:
        if json.loads(stamp.read_text()) == want:
            return folder
    except (OSError, ValueError):
        pass
    shutil.rmtree(folder, ignore_errors=True)
    print(f"  writing {legs:,} legs of demo files ({file_minutes}-minute files) ...", file=sys.stderr, flush=True)
    timed = run_timed(
        [str(BIN / "ringledger"), "demo", "--out", str(folder), "--legs", str(legs), "--days", str(days),
         "--seed", "7", "--end", END.isoformat(), "--file-minutes", str(file_minutes), "--quiet"]
    )  # fmt: skip
    print(f"  {timed.stdout.splitlines()[0]}", file=sys.stderr, flush=True)
    stamp.write_text(json.dumps(want))
    return folder


def file_stats(folder: Path) -> dict:
    """How many files and bytes the ingest reads."""
    files = [p for p in (folder / "cdr").iterdir() if p.is_file() and not p.name.startswith(".")]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def bare_read_csv(folder: Path) -> dict:
    """DuckDB reading every CDR and CMR row of the files with a bare read_csv (all columns as text)."""
    con = duckdb.connect(config={"threads": os.cpu_count() or 2})
    con.execute("SET enable_progress_bar = false")
    sql = (
        "SELECT count(*) FROM read_csv(?, all_varchar = true, header = true, union_by_name = false) "
        "WHERE cdrRecordType <> 'INTEGER'"  # the second header line of CUCM files holds the types
    )
    out = {}
    cpu0, started = time.process_time(), time.perf_counter()
    for kind in ("cdr", "cmr"):
        t = time.perf_counter()
        out[f"{kind}_rows"] = con.execute(sql, [str(folder / "cdr" / f"{kind}_*")]).fetchall()[0][0]
        out[f"{kind}_s"] = time.perf_counter() - t
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = time.process_time() - cpu0
    con.close()
    return out


def ingest_once(folder: Path, home: Path) -> dict:
    """The whole `ringledger ingest` of the folder into an empty data home."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = dict(os.environ, RINGLEDGER_HOME=str(home), RINGLEDGER_CONFIG=str(folder / "ringledger.toml"))
    timed = run_timed([str(BIN / "ringledger"), "ingest", "--quiet", str(folder / "cdr")], env=env)
    legs = int(timed.stdout.split(" CDR legs")[0].split(";")[-1].strip().replace(",", ""))
    shutil.rmtree(home, ignore_errors=True)
    return {
        "seconds": timed.seconds,
        "cpu_seconds": timed.cpu_seconds,
        "peak_rss_mb": timed.peak_rss_mb,
        "peak_tree_mb": timed.peak_tree_mb,
        "legs": legs,
        "summary": timed.stdout.strip(),
        "load_before": timed.load_before,
        "load_after": timed.load_after,
    }


def measure(folder: Path, runs: int, max_load: float = 99.0, max_wait_s: float = 0.0) -> dict:
    """Alternate baseline and ingest `runs` times on the same files; medians and ratios."""
    base, ingest = [], []
    for i in range(runs):
        wait_for_quiet(max_load, max_wait_s, "an ingest run")
        b = bare_read_csv(folder)
        b["load"] = load()
        base.append(b)
        r = ingest_once(folder, OUT / "homes" / "ingest-run")
        ingest.append(r)
        print(
            f"  run {i + 1}/{runs}: read_csv {b['seconds']:.1f} s, ingest {r['seconds']:.1f} s "
            f"({r['legs'] / r['seconds']:,.0f} legs/s), load {r['load_before']:.1f}",
            file=sys.stderr,
            flush=True,
        )
    legs = ingest[0]["legs"]
    read_s = median([b["seconds"] for b in base])
    ingest_s = median([r["seconds"] for r in ingest])
    return {
        "folder": str(folder),
        **file_stats(folder),
        "legs": legs,
        "cmr_rows": base[0]["cmr_rows"],
        "runs": runs,
        "read_csv_s": read_s,
        "read_csv_cdr_s": median([b["cdr_s"] for b in base]),
        "read_csv_cpu_s": median([b["cpu_seconds"] for b in base]),
        "ingest_s": ingest_s,
        "ingest_cpu_s": median([r["cpu_seconds"] for r in ingest]),
        "ingest_legs_per_s": legs / ingest_s,
        "read_csv_rows_per_s": (legs + base[0]["cmr_rows"]) / read_s,
        "ratio": ingest_s / read_s,
        "cpu_ratio": median([r["cpu_seconds"] for r in ingest]) / median([b["cpu_seconds"] for b in base]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in ingest),
        "peak_tree_mb": max(r["peak_tree_mb"] for r in ingest),
        "loads": [r["load_before"] for r in ingest],
        "samples": {"read_csv": base, "ingest": ingest},
    }


def main(argv: list[str] | None = None) -> dict:
    """Generate (or reuse) demo files, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--file-minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    folder = demo_files(args.legs, args.days, args.file_minutes)
    result = measure(folder, args.runs)
    print(
        f"{result['legs']:,} legs in {result['files']:,} files: ingest {result['ingest_s']:.1f} s = "
        f"{result['ingest_legs_per_s']:,.0f} legs/s; DuckDB read_csv {result['read_csv_s']:.2f} s; "
        f"ratio {result['ratio']:.2f} (target <= {TARGET_RATIO}); peak memory {result['peak_tree_mb']:,.0f} MB"
    )
    return result


if __name__ == "__main__":
    main()
