"""Classification and rating speed, and tariff deck import time, beside baselines measured in the same run.

    python -m bench.rating [--legs 10000000] [--days 30] [--numbers 300000] [--prefixes 200000] [--workers 2]

Builds synthetic days of calls for the demo company's three sites (Milano, London, New York)
directly as DuckDB tables, drawn from a few hundred thousand distinct dialled numbers (made from
phonenumbers' example numbers, dialled with each site's access code), and prices them a day at a
time as the pipeline does, timing in one run:

* baseline: a bare DuckDB hash join of every leg to a table of its number's class, and a sum;
* classification only: phonenumbers over the distinct numbers (what the cache saves);
* classification + rating with an empty number cache (cold) and again with a warm cache, through
  `warehouse.rating.price_calls`, the code the pipeline runs;
* the import of a generated 200,000-prefix A-Z deck (detect, read, store in the own format, read
  back), beside the 2 s target of ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import phonenumbers as pn
import pyarrow as pa

from bench.common import OUT, machine
from tariffs import demo
from tariffs.deck import DeckOptions, read_deck
from tariffs.numbering import classify_many
from tests.warehouse.company import CONFIG  # the demo company's sites, gateways and tariff plans
from warehouse.config import load_settings
from warehouse.lake import Lake
from warehouse.rating import numbering_plans, price_calls
from warehouse.tariff_files import install

TARGET_DECK_S = 2.0  # ARCHITECTURE.md: tariff deck import, 200,000 prefixes
TARGET_INGEST_LEGS_S = 200_000  # ARCHITECTURE.md: the whole ingest within 3x of read_csv, about 200,000 legs/s


SITES = (("Milano", "IT", "0", "MIL-GW-01", 0.45), ("London", "GB", "9", "LON-SBC-01", 0.30),
         ("New York", "US", "9", "NYC-SBC-01", 0.25))  # fmt: skip
ABROAD = ("IT", "GB", "US", "DE", "FR", "ES", "CH", "NL", "BE", "AT", "IE", "IN", "CN", "JP", "BR", "AU", "MX", "CA")
TYPES = (pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE)
IDD = {"IT": "00", "GB": "00", "US": "011"}
NATIONAL_PREFIX = {"IT": "", "GB": "0", "US": "1"}  # Italy keeps its leading 0 inside the number


def _templates() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for region in ABROAD:
        for kind in TYPES:
            ex = pn.example_number_for_type(region, kind)
            if ex is not None:
                out.setdefault(region, []).append(str(ex.country_code) + pn.national_significant_number(ex))
    return out


def dialled_numbers(count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(site, digits as the site's CDR records them) for `count` distinct numbers."""
    rng = random.Random(seed)
    templates = _templates()
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        site, country, access, _, _ = rng.choices(SITES, weights=[s[4] for s in SITES])[0]
        region = country if rng.random() < 0.75 else rng.choice(ABROAD)
        full = rng.choice(templates[region])
        full = full[:-5] + f"{rng.randrange(100000):05d}"
        cc = str(pn.country_code_for_region(region))
        nsn = full[len(cc) :]
        national = region == country
        digits = access + (NATIONAL_PREFIX[country] + nsn if national else IDD[country] + full)
        if (site, digits) not in seen:
            seen.add((site, digits))
            out.append((site, digits))
    return out


def build_legs(con: duckdb.DuckDBPyConnection, numbers: list[tuple[str, str]], legs: int, day: date) -> None:
    """A `calls_day` table of `legs` rows: outgoing calls (some transferred) and incoming ones, on one UTC day.

    The caller sets DuckDB's random seed, so a day can be built again identically.
    """
    gateways = {s[0]: s[3] for s in SITES}
    con.register(
        "bench_numbers",
        pa.table(
            {
                "n": pa.array(range(len(numbers)), pa.int64()),
                "site": [s for s, _ in numbers],
                "raw": [d for _, d in numbers],
                "gateway_device": [gateways[s] for s, _ in numbers],
            }
        ),
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE calls_day AS
        WITH legs AS (
            SELECT
                i,
                -- popular numbers are called more often
                CAST(floor(pow(random(), 3) * $k) AS BIGINT) AS n,
                random() < 0.15 AS incoming,
                CAST(floor(random() * 86000) AS INTEGER) AS start_s,
                CAST(floor(-ln(1 - random()) * 150) AS INTEGER) AS duration_s,
                -- one call in thirty is a transfer: two rows on one carrier leg
                CASE WHEN i % 30 = 1 THEN i - 1 ELSE i END AS trunk
            FROM range($legs) AS t(i)
        )
        SELECT
            'bench:' || l.i AS call_id,
            CASE WHEN l.incoming THEN 'incoming' ELSE 'outgoing' END AS direction,
            CASE WHEN l.incoming THEN 'callee' ELSE 'caller' END AS leg_role,
            'call' AS leg_kind,
            true AS billable,
            b.site,
            CAST(NULL AS VARCHAR) AS extension,
            CASE WHEN l.incoming THEN substr(b.raw, 2) ELSE b.raw END AS other_number,
            CAST(NULL AS VARCHAR) AS outpulsed_number,
            b.gateway_device AS gateway,
            b.gateway_device,
            $day::TIMESTAMPTZ + to_seconds(l.start_s) AS started_at,
            $day::TIMESTAMPTZ + to_seconds(l.start_s + 4) AS answered_at,
            l.duration_s,
            l.duration_s AS carrier_s,
            'trunk:' || l.trunk AS trunk_leg_id,
            CAST(NULL AS VARCHAR) AS e164,
            CAST(NULL AS VARCHAR) AS nation,
            CAST(NULL AS VARCHAR) AS area,
            CAST(NULL AS VARCHAR) AS destination_type,
            CAST(NULL AS VARCHAR) AS operator,
            CAST(NULL AS DECIMAL(18, 6)) AS cost,
            CAST(NULL AS VARCHAR) AS currency,
            CAST(NULL AS VARCHAR) AS tariff_plan,
            CAST(NULL AS VARCHAR) AS rate_ref,
            CAST(NULL AS DECIMAL(18, 6)) AS plan_cost,
            CAST(NULL AS VARCHAR) AS plan_currency
        FROM legs AS l
        JOIN bench_numbers AS b ON b.n = l.n
        """,
        {"k": len(numbers), "legs": legs, "day": str(day)},
    )
    con.unregister("bench_numbers")


def bare_join(con: duckdb.DuckDBPyConnection, classes: pa.Table, legs_table: str) -> float:
    """Seconds for DuckDB to join every leg to its number's class and sum the durations per type."""
    con.register("bench_classes", classes)
    started = time.perf_counter()
    con.execute(
        f"SELECT c.destination_type, sum(l.duration_s) FROM {legs_table} AS l "
        "JOIN bench_classes AS c ON c.site = l.site AND c.raw = l.other_number GROUP BY ALL"
    ).fetchall()
    seconds = time.perf_counter() - started
    con.unregister("bench_classes")
    return seconds


def deck_import(work: Path, settings, prefixes: int) -> tuple[float, float]:
    """Seconds to generate nothing but the file, then to import it as `ringledger tariff import` does."""
    rng = random.Random(11)
    path = work / "deck-200k.csv"
    seen: set[str] = set()
    with path.open("w") as fh:
        fh.write("prefix;destination;rate\n")
        while len(seen) < prefixes:
            p = str(rng.randint(1, 9)) + str(rng.randrange(10 ** rng.randint(2, 8)))
            if p in seen:
                continue
            seen.add(p)
            fh.write(f"{p};Destination {p[:3]};0,{rng.randrange(100000):05d}\n")
    started = time.perf_counter()
    plan, _ = read_deck(path, DeckOptions(name="bench-deck", currency="EUR", first_block=30, increment=6))
    read_s = time.perf_counter() - started
    install(settings, plan, replace_existing=True)
    return time.perf_counter() - started, read_s


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30, help="UTC days the legs spread over (priced a day at a time)")
    parser.add_argument("--numbers", type=int, default=300_000)
    parser.add_argument("--prefixes", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2, help="processes for classifying new numbers")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rl-bench-rating-"))
    days = [date(2025, 6, 1) + timedelta(days=i) for i in range(args.days)]
    per_day = args.legs // args.days
    legs = per_day * args.days
    try:
        home = work / "home"
        home.mkdir()
        (home / "ringledger.toml").write_text(CONFIG + f"\n[tariffs]\nclassify_workers = {args.workers}\n")
        settings = load_settings(home=home)
        demo.install(settings.tariffs_dir)
        print(f"generating {args.numbers:,} numbers ...", file=sys.stderr)
        numbers = dialled_numbers(args.numbers)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")

        # baseline 1: classification only (what the number cache saves on every later run)
        plans = numbering_plans(settings)
        started = time.perf_counter()
        parts = []
        for site in sorted({s for s, _ in numbers}):
            raws = [d for s, d in numbers if s == site]
            table = classify_many(plans[site], raws, "out", workers=args.workers)
            parts.append(table.append_column("site", pa.array([site] * table.num_rows)))
        classify_s = time.perf_counter() - started
        classes = pa.concat_tables(parts)

        # baseline 2: a bare DuckDB join of every leg to its number's class; then the real thing, a day at a time
        lake = Lake(settings.lake_dir)
        timings = {"join": 0.0, "cold": 0.0, "warm": 0.0}
        counts = {"new": 0, "priced": 0, "unrated": 0}
        for label in ("cold", "warm"):
            for i, day in enumerate(days):
                con.execute(f"SELECT setseed({(i + 1) / (len(days) + 2)})").fetchall()
                build_legs(con, numbers, per_day, day)
                if label == "cold":
                    timings["join"] += bare_join(con, classes, "calls_day")
                with lake.writer() as writer:
                    started = time.perf_counter()
                    done = price_calls(con, writer, settings, [day])
                    timings[label] += time.perf_counter() - started
                if label == "cold":
                    counts["new"] += done.new_numbers
                counts["priced"] += done.priced if label == "warm" else 0
                counts["unrated"] += done.unrated if label == "warm" else 0
            print(f"  {label}: {timings[label]:.1f} s for {legs:,} legs", file=sys.stderr)
        unrated = con.execute(
            "SELECT rate_ref, count(*) FROM calls_day WHERE cost IS NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
        ).fetchall()
        con.close()
        deck_s, deck_read_s = deck_import(work, settings, args.prefixes)

        join_s = timings["join"]
        result = {
            "machine": machine(),
            "legs": legs,
            "days": args.days,
            "distinct_numbers": args.numbers,
            "workers": args.workers,
            "baseline_join_s": join_s,
            "baseline_join_rows_per_s": legs / join_s,
            "classify_only_s": classify_s,
            "classify_only_numbers_per_s": args.numbers / classify_s,
            "numbers_classified_cold": counts["new"],
            "cold_s": timings["cold"],
            "cold_legs_per_s": legs / timings["cold"],
            "warm_s": timings["warm"],
            "warm_legs_per_s": legs / timings["warm"],
            "warm_vs_baseline_join": timings["warm"] / join_s,
            "priced_rows": counts["priced"],
            "unrated_rows": counts["unrated"],
            "target_ingest_legs_per_s": TARGET_INGEST_LEGS_S,
            "deck_prefixes": args.prefixes,
            "deck_import_s": deck_s,
            "deck_read_s": deck_read_s,
            "target_deck_s": TARGET_DECK_S,
            "top_unrated": [[r, n] for r, n in unrated],
        }
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "rating.json").write_text(json.dumps(result, indent=1))
        print(
            f"{legs:,} legs over {args.days} days from {args.numbers:,} distinct numbers "
            f"({args.workers} classification processes)\n"
            f"  baseline, bare DuckDB join of legs to number classes: {join_s:.2f} s = {legs / join_s:,.0f} rows/s\n"
            f"  baseline, classification only: {classify_s:.1f} s = {args.numbers / classify_s:,.0f} numbers/s\n"
            f"  classification + rating, empty number cache ({counts['new']:,} numbers classified): "
            f"{timings['cold']:.1f} s = {legs / timings['cold']:,.0f} legs/s\n"
            f"  classification + rating, warm number cache: {timings['warm']:.1f} s = "
            f"{legs / timings['warm']:,.0f} legs/s ({timings['warm'] / join_s:.1f}x the bare join); "
            f"{counts['unrated']:,} rows without a cost\n"
            f"  target: the whole ingest (parse + calls + classify + rate) at >= {TARGET_INGEST_LEGS_S:,} legs/s\n"
            f"  deck import, {args.prefixes:,} prefixes: {deck_s:.2f} s (read {deck_read_s:.2f} s; "
            f"target <= {TARGET_DECK_S} s)\n"
            f"machine: {result['machine']}"
        )
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
