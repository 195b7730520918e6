"""Every figure of the performance budget (ARCHITECTURE.md), measured in one run, written to bench/RESULTS.md.

    make bench          # python -m bench.run: ingest, rating, deck import, reports and Home at 1M and 10M
                        # calls, inbox-to-visible latency, peak memory of ingesting 10M legs
    make bench-large    # python -m bench.run --large: the same lake at 100M calls, every report on it

Each section keeps its results in bench/out/results/*.json; RESULTS.md and the plots are written
from all kept results at the end of every run, so `make bench-large` adds the 100M figures to
those of `make bench`. Data is generated once and kept under bench/out (demo CUCM files, lakes).
Before each measurement the runner waits (up to --max-wait seconds) for the machine's load to
drop to --max-load, and records the load it measured under.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import OUT, load, machine, median, save, wait_for_quiet

SECTIONS = ("ingest", "memory", "rating", "deck", "reports", "latency")
SMALL_FILES_LEGS = 200_000  # the demo's realistic layout: one file per node per minute (about 97,000 files)
LARGE_FILES_LEGS = 1_000_000  # hourly files
MEMORY_LEGS = 10_000_000
REPORT_SIZES = (1_000_000, 10_000_000)
LARGE_SIZE = 100_000_000


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def section_ingest(args) -> None:
    """Whole `ringledger ingest` vs DuckDB's bare read_csv: small files and hourly files."""
    from bench import ingest

    for name, legs, minutes, runs in (
        ("ingest_small_files", SMALL_FILES_LEGS, 1, 2),
        ("ingest_hourly_files", LARGE_FILES_LEGS, 60, 3),
    ):
        _say(f"ingest: {legs:,} legs in {minutes}-minute files")
        folder = ingest.demo_files(legs, 30, minutes)
        result = ingest.measure(folder, runs, args.max_load, args.max_wait)
        result["file_minutes"] = minutes
        save(name, result)
        _say(
            f"  {result['ingest_legs_per_s']:,.0f} legs/s, ratio to read_csv {result['ratio']:.2f} "
            f"(read_csv {result['read_csv_s']:.1f} s, ingest {result['ingest_s']:.1f} s)"
        )


def section_memory(args) -> None:
    """Ingesting 10M legs (hourly files): peak memory, and the largest point of the ingest curve."""
    from bench import ingest

    _say(f"memory: {MEMORY_LEGS:,} legs in hourly files")
    folder = ingest.demo_files(MEMORY_LEGS, 30, 60)
    result = ingest.measure(folder, 1, args.max_load, args.max_wait)
    result["file_minutes"] = 60
    result["target_peak_gb"] = ingest.TARGET_PEAK_GB
    save("ingest_10m", result)
    _say(f"  peak {result['peak_tree_mb']:,.0f} MB, {result['ingest_legs_per_s']:,.0f} legs/s")
    if not args.keep_files:
        shutil.rmtree(folder, ignore_errors=True)  # about 12 GB


def section_rating(args) -> None:
    """Classification + rating against classification only and a bare join (bench.rating)."""
    from bench import rating

    wait_for_quiet(args.max_load, args.max_wait, "rating")
    _say("rating: 10,000,000 legs over 30 days from 300,000 numbers")
    before = load()
    result = rating.main(["--legs", "10000000", "--days", "30", "--numbers", "300000", "--prefixes", "200000"])
    result["load"] = [before, load()]
    save("rating", result)


def section_deck(args) -> None:
    """Tariff deck import of 200,000 prefixes, median of 5."""
    from bench import rating
    from tariffs import demo
    from tests.warehouse.company import CONFIG
    from warehouse.config import load_settings

    _say("deck import: 200,000 prefixes")
    work = Path(tempfile.mkdtemp(prefix="rl-bench-deck-"))
    try:
        home = work / "home"
        home.mkdir()
        (home / "ringledger.toml").write_text(CONFIG)
        settings = load_settings(home=home)
        demo.install(settings.tariffs_dir)
        runs = []
        for _ in range(5):
            wait_for_quiet(args.max_load, args.max_wait, "a deck import")
            before = load()
            total, read = rating.deck_import(work, settings, 200_000)
            runs.append({"seconds": total, "read_s": read, "load": before})
        save(
            "deck",
            {
                "prefixes": 200_000,
                "seconds": median([r["seconds"] for r in runs]),
                "read_s": median([r["read_s"] for r in runs]),
                "target_s": rating.TARGET_DECK_S,
                "runs": runs,
            },
        )
        _say(f"  {median([r['seconds'] for r in runs]):.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def section_reports(args, sizes: tuple[int, ...]) -> None:
    """Build (or reuse) the lakes, then every report and Home on each."""
    from bench import build, reports

    for calls in sizes:
        _say(f"lake of {calls:,} calls")
        info = build.build_lake(build.lake_home(calls), calls)
        _say(f"  {info.calls:,} calls, {info.bytes / 2**30:.2f} GB, built in {info.seconds:.0f} s")
        wait_for_quiet(args.max_load, args.max_wait, f"the reports at {calls:,} calls")
        before = load()
        home = reports.measure_home(calls)
        # at 100M one warm run (after the first) keeps `make bench-large` within an hour
        runs = 1 if calls >= LARGE_SIZE else 3
        result = reports.measure_reports(calls, runs=runs)
        result.update(home=home, lake=info.__dict__, load=[before, load()])
        save(f"reports_{calls}", result)
        worst = max(result["reports"], key=lambda r: r["engine_ms"])
        _say(
            f"  Home {home['warm_ms']:.0f} ms; cost by department, one month "
            f"{result['department_month']['engine_ms']:.0f} ms; slowest {worst['report']} ({worst['period']}) "
            f"{worst['engine_ms']:.0f} ms"
        )


def section_latency(args) -> None:
    """A new file in the inbox until `calls` shows it, with the daemon running."""
    from bench import latency

    wait_for_quiet(args.max_load, args.max_wait, "the latency samples")
    _say("inbox to visible: starting the daemon")
    result = latency.measure(samples=7)
    save("latency", result)
    _say(f"  median {result['median_s']:.1f} s, max {result['max_s']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    """Run the sections asked for (all by default), then write RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="the 100M-call lake and every report on it")
    parser.add_argument("--only", help=f"comma-separated sections of the normal run: {', '.join(SECTIONS)}")
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for the 1-minute load to drop to this")
    parser.add_argument("--max-wait", type=float, default=300, help="seconds to wait for it before each step")
    parser.add_argument("--keep-files", action="store_true", help="keep the 10M legs of CUCM files (about 12 GB)")
    parser.add_argument("--no-write", action="store_true", help="measure only; do not rewrite RESULTS.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    _say(f"machine: {machine()}; load {load():.1f}")
    (OUT / "homes").mkdir(parents=True, exist_ok=True)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    if args.large:
        section_reports(args, (LARGE_SIZE,))
    else:
        chosen = args.only.split(",") if args.only else list(SECTIONS)
        unknown = set(chosen) - set(SECTIONS)
        if unknown:
            parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
        for name in SECTIONS:
            if name not in chosen:
                continue
            if name == "reports":
                section_reports(args, REPORT_SIZES)
            else:
                globals()[f"section_{name}"](args)
    if not args.no_write:
        from bench.results import write

        path = write()
        _say(f"wrote {path}")
    _say(f"done in {(time.perf_counter() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
