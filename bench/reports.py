"""Benchmark of Home data and every catalogue report on a synthetic lake of N calls.

    python -m bench.reports --calls 10000000          # the ARCHITECTURE.md budget size
    python -m bench.reports --calls 1000000 --keep DIR

It writes a lake of N calls over a year (day partitions, one file per day sorted by extension, as
the pipeline writes them) and a directory of people owning the extensions, then times, warm and in
one run: Home (a person's last 200 calls and the month summary) and each catalogue report for the
whole company, both through the report engine and as the same SQL executed directly in DuckDB.
The ratio engine/direct shows what the engine adds; the budget lines compare with ARCHITECTURE.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.access import Assignment, Principal
from warehouse.config import Settings
from warehouse.lake import Lake
from warehouse.reports import Filters, list_reports, run_report
from warehouse.reports.engine import build_query
from warehouse.reports.home import (
    days_with_calls,
    last_calls,
    last_calls_query,
    month_bounds,
    month_summary,
    pick_days,
    recent_query,
    summary_plan,
    summary_query,
)
from warehouse.reports.preview import synthetic_calls_sql
from warehouse.views import DIRECTORY_SCHEMAS

BUDGET_HOME_MS = 50.0
BUDGET_DEPARTMENT_MONTH_MS = 150.0
DEPARTMENTS = ["Sales", "Finance", "Engineering", "Support", "Marketing"]
COST_CENTRES = ["CC-100", "CC-200", "CC-300", "CC-400"]


def build_lake(lake_dir: Path, calls: int, days: int, extensions: int, end: datetime) -> None:
    """Write `calls` synthetic calls and a matching directory into a lake, as the pipeline lays it out."""
    from warehouse.calls import empty_calls

    lake = Lake(lake_dir)
    con = duckdb.connect(config={"threads": 2, "memory_limit": "6GB"})
    con.execute("SET TimeZone = 'UTC'")
    con.register("_schema", empty_calls())
    con.execute("CREATE TABLE calls AS SELECT * FROM _schema LIMIT 0")
    con.unregister("_schema")
    con.execute("ALTER TABLE calls ADD COLUMN IF NOT EXISTS day DATE")
    con.execute(
        "INSERT INTO calls BY NAME " + synthetic_calls_sql(),
        {"n": calls, "days": days, "end_ts": end, "extensions": extensions},
    )
    with lake.writer() as writer:
        stage = lake.staging_dir(f"bench-{uuid.uuid4().hex[:8]}")
        out = stage / "calls"
        # one file per UTC day, sorted by extension so row-group statistics skip other people's rows
        con.execute(
            f"COPY (SELECT * FROM calls ORDER BY day, extension, started_at) TO '{out}' "
            "(FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, ROW_GROUP_SIZE 100000, "
            "WRITE_PARTITION_COLUMNS false)"
        )
        parts: dict[str, list[Path]] = {}
        for folder in sorted(out.glob("day=*")):
            day = folder.name.removeprefix("day=")
            files = []
            for f in folder.glob("*.parquet"):
                target = f.with_name(f"calls-{uuid.uuid4().hex[:12]}.parquet")
                f.rename(target)
                files.append(target)
            parts[day] = files
        writer.publish("calls", replace=parts)
        people = pa.Table.from_pylist(
            [
                {
                    "user_id": f"u{i}",
                    "user_name": f"User {i}",
                    "first_name": "User",
                    "last_name": str(i),
                    "email": "",
                    "department": DEPARTMENTS[i % 5],
                    "cost_centre": COST_CENTRES[i % 4],
                    "manager_id": None,
                    "site": "",
                    "language": "en",
                    "time_zone": "Europe/Rome",
                    "role": "user",
                    "active": True,
                }
                for i in range(extensions)
            ],
            schema=DIRECTORY_SCHEMAS["users"],
        )
        owners = pa.Table.from_pylist(
            [
                {"extension": str(2000 + i), "user_id": f"u{i}", "valid_from": None, "valid_to": None}
                for i in range(extensions)
            ],
            schema=DIRECTORY_SCHEMAS["extensions"],
        )
        files = []
        for name, table in (("users", people), ("extensions", owners)):
            path = stage / f"{name}-{uuid.uuid4().hex[:12]}.parquet"
            pq.write_table(table, path)
            files.append(path)
        writer.publish("directory", replace={"": files})
    con.close()


def timed(fn, repeat: int) -> float:
    """Median milliseconds of `repeat` warm runs (after one run to warm up)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic lake and print the timings."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls in the lake (budget: 10,000,000)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--extensions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the lake here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)

    import warehouse

    end = datetime(2026, 6, 20, 17, 0, tzinfo=UTC)
    now = end + timedelta(minutes=5)
    with tempfile.TemporaryDirectory(prefix="ringledger-bench-") as scratch:
        home = args.keep or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        settings = Settings(home=home)
        started = time.perf_counter()
        if not (settings.lake_dir / "calls" / "_manifest.json").exists():
            build_lake(settings.lake_dir, args.calls, args.days, args.extensions, end)
        print(f"lake of {args.calls:,} calls over {args.days} days ready in {time.perf_counter() - started:.1f} s")
        con = warehouse.connect(settings)
        zone = "Europe/Rome"
        person = Principal("u7", role="user", time_zone=zone, assignments=(Assignment("2007"),))
        admin = Principal("admin", role="administrator", time_zone=zone)

        def home_engine() -> None:
            last_calls(settings, person, 200, now=now, con=con)
            month_summary(settings, person, zone, now=now, con=con)

        days = days_with_calls(settings, con, person)
        scan, _whole = summary_plan(settings, con, person, zone, now)
        month_start = month_bounds(zone, now)[0].date()
        home_statements = [recent_query(person, 200), summary_query(person, zone, now, scan)]
        home_naive = [
            last_calls_query(person, 200, pick_days(days, 200)),
            summary_query(person, zone, now, [d for d, _n in days if d >= month_start]),
        ]

        def home_direct() -> None:
            # the same statements executed as they are (the index lookups of the engine left out)
            for statement in home_statements:
                con.execute(*statement).fetchall()

        def home_partitions() -> None:
            # what Home would cost reading the day partitions that hold the person's calls
            for statement in home_naive:
                con.execute(*statement).fetchall()

        rows = []
        engine_ms = timed(home_engine, args.repeat)
        direct_ms = timed(home_direct, args.repeat)
        rows.append(("Home: last 200 calls + month summary", engine_ms, direct_ms, BUDGET_HOME_MS))
        rows.append(("Home read from day partitions (no index)", timed(home_partitions, args.repeat), direct_ms, None))
        for report in list_reports():
            filters = report.defaults
            if report.name == "cost_by_department":
                filters = filters.merged(period="last_month")
            who = person if report.own_extensions else admin
            query = build_query(settings, who, report, filters, now)

            def engine_run(report=report, filters=filters, who=who) -> None:
                run_report(settings, who, report.name, filters, now=now, con=con)

            def direct_run(query=query) -> None:
                con.execute(query.sql, query.params).fetchall()

            budget = BUDGET_DEPARTMENT_MONTH_MS if report.name == "cost_by_department" else None
            rows.append(
                (
                    f"{report.name} ({filters.period})",
                    timed(engine_run, args.repeat),
                    timed(direct_run, args.repeat),
                    budget,
                )
            )
        width = max(len(r[0]) for r in rows)
        print(f"{'what':{width}}  engine ms  direct ms  ratio  budget")
        failed = False
        for name, e, d, budget in rows:
            verdict = ""
            if budget is not None:
                ok = e <= budget
                failed |= not ok and args.calls >= 10_000_000
                verdict = f"{'ok' if ok else 'OVER'} (<= {budget:.0f} ms)"
            print(f"{name:{width}}  {e:9.1f}  {d:9.1f}  {e / d if d else 0:5.2f}  {verdict}")
        print(f"({Filters().period!r} is the default period; times are medians of {args.repeat} warm runs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
