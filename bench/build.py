"""Data homes for the benchmarks: the demo company's calls at any size, written straight into the lake.

    python -m bench.build --calls 10000000 --out DIR

A *template* is a small demo home made the way a customer's is: `load_demo` writes the demo
company's CUCM files (Ravello Instruments: Milano, London, New York, about 300 people), imports its
directory and tariffs and ingests the files, so its calls are real pipeline output, classified and
priced. A *lake of N calls* is a copy of that home whose `calls` hold N rows over a year: each day
takes whole template calls of the same weekday (so office hours, the mix of directions, transfers,
hunt groups, destinations and costs keep the demo's shape), moves them to that day, gives them new
call ids, and varies the last two digits of outside numbers (a year reaches many more numbers than
four weeks). Days are generated and written one at a time by DuckDB (bounded memory, no CSV) and
published through the lake's own manifests, with their daily rollups, so the product reads them as
it reads what the pipeline writes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb

from bench.common import OUT

# A fixed "now" for every generated home, so runs are repeatable and reports see full periods.
END = datetime(2026, 6, 30, 21, 0, tzinfo=UTC)
TEMPLATE_LEGS = 200_000
TEMPLATE_DAYS = 28  # four whole weeks before the last day: every weekday four times
LAKE_DAYS = 365
DAYS_PER_PUBLISH = 30  # manifests are rewritten once per this many days
SEED = 7


@dataclass
class LakeInfo:
    """What a generated home holds."""

    home: str
    calls: int
    days: int
    first_day: str
    last_day: str
    seconds: float
    bytes: int
    template_calls: int


def _stamp(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def template_home(legs: int = TEMPLATE_LEGS, days: int = TEMPLATE_DAYS, root: Path | None = None) -> Path:
    """A demo home of `legs` CDR legs over `days` days ending at END, made once and kept under bench/out."""
    from ringledger.demo import load_demo

    home = (root or OUT / "homes") / f"template-{legs}-{days}"
    stamp = home / "bench-template.json"
    want = {"legs": legs, "days": days, "end": END.isoformat(), "seed": SEED}
    if _stamp(stamp) == want:
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    print(f"  template: demo company, {legs:,} legs over {days} days ...", file=sys.stderr, flush=True)
    # one day more on each side: the first and the last day of a demo are partial
    load_demo(home, legs=legs, days=days + 2, seed=SEED, end=END)
    print(f"  template ready in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    stamp.write_text(json.dumps(want))
    return home


def _copy_home(template: Path, home: Path) -> None:
    """The template's configuration, app database, tariffs and directory snapshot, without its calls."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    for item in template.iterdir():
        if item.name in ("lake", "archive", "inbox", "bench-template.json", "bench-lake.json", "dagster"):
            continue
        if item.is_dir():
            shutil.copytree(item, home / item.name)
        else:
            shutil.copy2(item, home / item.name)
    for dataset in ("directory", "numbers"):
        src = template / "lake" / dataset
        if src.exists():
            shutil.copytree(src, home / "lake" / dataset)


_TEMPLATE_SQL = """
CREATE OR REPLACE TEMP TABLE tpl AS
WITH rows AS (
    SELECT * EXCLUDE (day), day AS tday FROM read_parquet($files, union_by_name = true, hive_partitioning = true)
    WHERE day BETWEEN $first AND $last
),

calls AS (
    SELECT call_id, min(tday) AS tday FROM rows GROUP BY call_id
),

numbered AS (
    SELECT
        r.* EXCLUDE (tday),
        c.tday,
        isodow(c.tday) AS wd,
        CAST(dense_rank() OVER (PARTITION BY isodow(c.tday) ORDER BY r.call_id) - 1 AS BIGINT) AS call_no
    FROM rows AS r
    JOIN calls AS c USING (call_id)
)

-- in the order of a day's file (extension, then time of day), which generated days then keep
SELECT * FROM numbered ORDER BY wd, extension, started_at - CAST(tday AS TIMESTAMPTZ)
"""

# One generated day: $k template calls of the day's weekday drawn at random (a call drawn twice comes
# twice), moved to the day, with new ids. Reading the template in order keeps the day's file order.
_DAY_SQL = """
CREATE OR REPLACE TEMP TABLE bench_day AS
WITH picks AS (
    SELECT CAST(hash(i, $salt) % $n AS BIGINT) AS call_no, min(i) AS pick, count(*) AS copies
    FROM range($k) AS t(i)
    GROUP BY 1
),

drawn AS (
    SELECT t.*, $prefix || p.pick || '.' || c.copy || ':' AS id_prefix,
        lpad(CAST(hash($salt, p.pick, c.copy) % 100 AS VARCHAR), 2, '0') AS tail,
        (CAST($day AS DATE) - t.tday) * INTERVAL 1 DAY AS shift
    FROM tpl AS t
    JOIN picks AS p ON p.call_no = t.call_no
    CROSS JOIN LATERAL (SELECT range AS copy FROM range(p.copies)) AS c
    WHERE t.wd = $wd
        AND t.started_at + (CAST($day AS DATE) - t.tday) * INTERVAL 1 DAY < $end
)

SELECT * EXCLUDE (tday, wd, call_no, id_prefix, tail, shift) REPLACE (
    id_prefix || call_id AS call_id,
    id_prefix || leg_id AS leg_id,
    id_prefix || pkid AS pkid,
    started_at + shift AS started_at,
    answered_at + shift AS answered_at,
    ended_at + shift AS ended_at,
    -- a year reaches more numbers than four weeks: vary the last two digits of outside numbers
    CASE WHEN direction <> 'internal' AND length(other_number) >= 8
        THEN left(other_number, -2) || tail ELSE other_number END AS other_number,
    CASE WHEN direction <> 'internal' AND length(other_number) >= 8 AND length(e164) >= 8
        THEN left(e164, -2) || tail ELSE e164 END AS e164,
    id_prefix || trunk_leg_id AS trunk_leg_id
)
FROM drawn
"""


def build_lake(
    home: Path,
    calls: int,
    days: int = LAKE_DAYS,
    *,
    template: Path | None = None,
    force: bool = False,
) -> LakeInfo:
    """Make `home` a data home whose lake holds about `calls` calls rows over `days` days ending at END."""
    from warehouse.calls import CALLS_PARQUET, write_rollup
    from warehouse.lake import Lake

    template = template or template_home()
    stamp = home / "bench-lake.json"
    want = {"calls": calls, "days": days, "end": END.isoformat(), "template": str(template), "seed": SEED}
    old = _stamp(stamp)
    if old and not force and old.get("want") == want:
        _store_derived(home)
        return LakeInfo(**old["info"])
    started = time.perf_counter()
    _copy_home(template, home)
    lake = Lake(home / "lake")
    tpl_lake = Lake(template / "lake")
    con = duckdb.connect(config={"threads": 2, "memory_limit": "3GB"})
    con.execute("SET TimeZone = 'UTC'")
    last_tpl = END.date() - timedelta(days=1)
    con.execute(
        _TEMPLATE_SQL,
        {
            "files": [str(f) for f in tpl_lake.files("calls")],
            "first": last_tpl - timedelta(days=TEMPLATE_DAYS - 1),
            "last": last_tpl,
        },
    )
    per_wd = {
        wd: (n_calls, rows, n_days)
        for wd, n_calls, rows, n_days in con.execute(
            "SELECT wd, count(DISTINCT call_no), count(*), count(DISTINCT tday) FROM tpl GROUP BY wd"
        ).fetchall()
    }
    template_calls = sum(v[1] for v in per_wd.values())
    last = END.date()
    all_days = [last - timedelta(days=i) for i in range(days)][::-1]
    # each day gets the template's rows per day of its weekday, scaled to the total asked for
    weight = {wd: rows / n_days for wd, (_n, rows, n_days) in per_wd.items()}
    scale = calls / sum(weight[d.isoweekday()] for d in all_days)
    total = 0
    pending: dict[str, dict[str, list[Path]]] = {"calls": {}, "daily_rollups": {}, "quarter_hours": {}}
    with lake.writer() as writer:
        stage = lake.staging_dir(f"bench-{uuid.uuid4().hex[:8]}")
        for i, day in enumerate(all_days):
            wd = day.isoweekday()
            n_calls, rows, _n_days = per_wd[wd]
            k = max(1, round(weight[wd] * scale * n_calls / rows))
            con.execute(
                _DAY_SQL,
                {"salt": i + 1, "n": n_calls, "k": k, "prefix": f"B{day:%Y%m%d}:", "day": day, "wd": wd, "end": END},
            )
            target = stage / f"calls-{uuid.uuid4().hex[:12]}.parquet"
            # already in the order build_day writes (by extension, then time): no sort needed
            con.execute(f"COPY bench_day TO '{target}' ({CALLS_PARQUET})")
            rollup = stage / f"rollup-{uuid.uuid4().hex[:12]}.parquet"
            quarters = stage / f"quarters-{uuid.uuid4().hex[:12]}.parquet"
            write_rollup(con, "bench_day", rollup, quarters)
            total += con.execute("SELECT count(*) FROM bench_day").fetchall()[0][0]
            pending["calls"][str(day)] = [target]
            pending["daily_rollups"][str(day)] = [rollup]
            pending["quarter_hours"][str(day)] = [quarters]
            if len(pending["calls"]) >= DAYS_PER_PUBLISH or i == len(all_days) - 1:
                for dataset, parts in pending.items():
                    writer.publish(dataset, replace=parts)
                pending = {"calls": {}, "daily_rollups": {}, "quarter_hours": {}}
                rate = total / (time.perf_counter() - started)
                print(f"  lake: {i + 1}/{days} days, {total:,} calls ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        shutil.rmtree(stage, ignore_errors=True)
    con.close()
    _store_derived(home)
    size = sum(f.stat().st_size for f in (home / "lake").rglob("*.parquet"))
    info = LakeInfo(
        home=str(home),
        calls=total,
        days=days,
        first_day=str(all_days[0]),
        last_day=str(all_days[-1]),
        seconds=time.perf_counter() - started,
        bytes=size,
        template_calls=template_calls,
    )
    stamp.write_text(json.dumps({"want": want, "info": asdict(info)}))
    return info


def _store_derived(home: Path) -> None:
    """Store what the calls build derives from the calls (quarter-hour rollups, offers, load) where it is missing."""
    from warehouse import gateway_load, offers
    from warehouse.calls import QUARTER_HOURS_SQL, ROLLUP_PARQUET
    from warehouse.config import load_settings
    from warehouse.cucm import new_connection
    from warehouse.lake import Lake
    from warehouse.querytext import sql_paths

    settings = load_settings(path=home / "ringledger.toml", home=home)
    lake = Lake(settings.lake_dir)
    missing = sorted(set(lake.days("calls")) - set(lake.days("quarter_hours")))
    if missing:
        con = new_connection()
        stage = lake.staging_dir(f"bench-quarters-{uuid.uuid4().hex[:8]}")
        with lake.writer() as writer:
            parts = {}
            for day in missing:
                target = stage / f"quarters-{uuid.uuid4().hex[:12]}.parquet"
                table = f"read_parquet({sql_paths(lake.files('calls', [day]))})"
                con.execute(f"COPY ({QUARTER_HOURS_SQL.format(table=table)}) TO '{target}' ({ROLLUP_PARQUET})")
                parts[day] = [target]
            writer.publish("quarter_hours", replace=parts)
        con.close()
        print(f"  quarter hours: {len(missing)} days", file=sys.stderr, flush=True)

    def without_pilot_offers(settings) -> list[date]:
        missing = set(lake.days("calls")) - set(lake.days("pilot_offers"))
        return [date.fromisoformat(d) for d in sorted(missing)]

    # each after the one before (storing the offers to lines stores those to pilots too)
    for name, missing_days, rebuild in (
        ("offers", offers.stale_days, offers.rebuild_offers),
        ("pilot offers", without_pilot_offers, partial(offers.rebuild_offers, build=offers.build_pilot_offers)),
        ("gateway quarters", gateway_load.stale_days, gateway_load.rebuild),
    ):
        days = missing_days(settings)
        if days:
            started = time.perf_counter()
            rows = rebuild(settings, days)
            seconds = time.perf_counter() - started
            print(f"  {name}: {len(days)} days, {rows:,} stored in {seconds:.0f} s", file=sys.stderr, flush=True)


def lake_home(calls: int, root: Path | None = None) -> Path:
    """Where the benchmark keeps its lake of `calls` calls."""
    return (root or OUT / "homes") / f"lake-{calls}"


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) a home of N calls and print what it holds."""
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=LAKE_DAYS)
    parser.add_argument("--out", type=Path, help="the home to write (default bench/out/homes/lake-N)")
    parser.add_argument("--force", action="store_true", help="build again even if the home is there")
    args = parser.parse_args(argv)
    home = args.out or lake_home(args.calls)
    info = build_lake(home, args.calls, args.days, force=args.force)
    print(
        f"{info.calls:,} calls over {info.days} days ({info.first_day} to {info.last_day}) in {info.home}: "
        f"{info.bytes / 2**30:.2f} GB, built in {info.seconds:.0f} s ({info.calls / max(info.seconds, 1e-9):,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
