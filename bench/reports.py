"""Reports and Home on a lake of N calls: each catalogue report through the engine and as its SQL run directly.

    python -m bench.reports --calls 10000000 [--runs 3]

The lake is the demo company's calls over a year (bench.build). Every report runs warm, twice per
period: through the report engine (`run_report`: query, masking, labels, totals) and as the same
final SQL executed directly on the same DuckDB connection. Periods: each report's own default
(what a person gets on opening it) and the whole year (last 12 months, every call in the lake).
Home is a demo employee's last 200 calls plus this month's summary.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime

from bench.build import END, build_lake, lake_home

BUDGET_HOME_MS = 50.0
BUDGET_DEPARTMENT_MONTH_MS = 150.0  # Group Cost By Department, one month, 10M calls
BUDGET_ANY_REPORT_MS = 1500.0  # any catalogue report over 100M calls
HOME_PERSON = "aadams"  # a New York employee of the demo company
YEAR = "last_12_months"  # the lake's whole year, as seen from END
SLOW_MS = 20_000.0  # a report whose first run takes longer is timed once through the engine and once directly


def _timed(fn, runs: int) -> tuple[float, list[float]]:
    """Median milliseconds of `runs` runs (the caller has warmed up)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), samples


def settings_of(calls: int):
    """The settings of the lake home of `calls` calls."""
    from warehouse.config import load_settings

    home = lake_home(calls)
    return load_settings(path=home / "ringledger.toml", home=home)


def measure_home(calls: int, runs: int = 7, now: datetime = END) -> dict:
    """Home data for a demo employee: the index build (first call) and warm medians."""
    import warehouse
    from warehouse import appdb, views
    from warehouse.access import load_principal
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

    settings = settings_of(calls)
    views.reset()
    con = warehouse.connect(settings)
    person = load_principal(appdb.open_db(settings), HOME_PERSON)
    zone = person.time_zone or settings.company.time_zone
    started = time.perf_counter()
    last_calls(settings, person, 200, now=now, con=con)
    month_summary(settings, person, zone, now=now, con=con)
    first_ms = (time.perf_counter() - started) * 1000

    def home() -> None:
        last_calls(settings, person, 200, now=now, con=con)
        month_summary(settings, person, zone, now=now, con=con)

    scan, _whole = summary_plan(settings, con, person, zone, now)
    statements = [recent_query(person, 200), summary_query(person, zone, now, scan)]
    days = days_with_calls(settings, con, person)
    month_start = month_bounds(zone, now)[0].date()
    naive = [
        last_calls_query(person, 200, pick_days(days, 200)),
        summary_query(person, zone, now, [d for d, _n in days if d >= month_start]),
    ]

    def direct() -> None:
        # the same statements executed as they are (the engine's index lookups and Python left out)
        for statement in statements:
            con.execute(*statement).fetchall()

    def partitions() -> None:
        # what Home would cost without its index: reading the day partitions with the person's calls
        for statement in naive:
            con.execute(*statement).fetchall()

    home()
    direct()
    partitions()
    ms, samples = _timed(home, runs)
    direct_ms, _ = _timed(direct, runs)
    partitions_ms, _ = _timed(partitions, runs)
    summary = month_summary(settings, person, zone, now=now, con=con)
    return {
        "calls": calls,
        "person": HOME_PERSON,
        "first_ms": first_ms,
        "warm_ms": ms,
        "direct_ms": direct_ms,
        "partitions_ms": partitions_ms,
        "samples_ms": samples,
        "month_calls": summary.calls,
        "target_ms": BUDGET_HOME_MS,
    }


def measure_reports(calls: int, runs: int = 3, periods: tuple[str, ...] = ("default", YEAR)) -> dict:
    """Every catalogue report, per period: engine and direct SQL medians (warm)."""
    import warehouse
    from warehouse import appdb, views
    from warehouse.access import Principal, load_principal
    from warehouse.reports import list_reports, run_report
    from warehouse.reports.engine import build_query

    settings = settings_of(calls)
    views.reset()
    con = warehouse.connect(settings)
    admin = Principal("admin", role="administrator", time_zone=settings.company.time_zone)
    person = load_principal(appdb.open_db(settings), HOME_PERSON)
    rows = []
    for report in list_reports():
        for period in periods:
            filters = report.defaults if period == "default" else report.defaults.merged(period=period)
            who = person if report.own_extensions else admin
            query = build_query(settings, who, report, filters, END)

            def engine(report=report, filters=filters, who=who) -> None:
                run_report(settings, who, report.name, filters, now=END, con=con)

            def direct(query=query) -> None:
                con.execute(query.sql, query.params).fetchall()

            started = time.perf_counter()
            engine()  # warm-up: file footers, the directory, the OS cache
            cold_ms = (time.perf_counter() - started) * 1000
            if cold_ms > SLOW_MS:
                # the warm-up is a rounding error at this length: the first run is the engine's figure
                engine_ms, engine_samples = cold_ms, [cold_ms]
                direct_ms, direct_samples = _timed(direct, 1)
            else:
                engine_ms, engine_samples = _timed(engine, runs)
                direct_ms, direct_samples = _timed(direct, runs)
            rows.append(
                {
                    "report": report.name,
                    "title": report.title,
                    "period": filters.period,
                    "which": period,
                    "first_ms": cold_ms,
                    "engine_ms": engine_ms,
                    "direct_ms": direct_ms,
                    "engine_samples": engine_samples,
                    "direct_samples": direct_samples,
                }
            )
            print(
                f"  {calls:,} calls: {report.name} ({filters.period}): engine {engine_ms:.0f} ms, "
                f"direct {direct_ms:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    report = next(r for r in list_reports() if r.name == "cost_by_department")
    filters = report.defaults.merged(period="last_month")
    query = build_query(settings, admin, report, filters, END)

    def department_engine() -> None:
        run_report(settings, admin, "cost_by_department", filters, now=END, con=con)

    department_engine()
    e_ms, e_samples = _timed(department_engine, 7)
    d_ms, d_samples = _timed(lambda: con.execute(query.sql, query.params).fetchall(), 7)
    department = {
        "engine_ms": e_ms,
        "direct_ms": d_ms,
        "engine_samples": e_samples,
        "direct_samples": d_samples,
        "target_ms": BUDGET_DEPARTMENT_MONTH_MS,
        "period": f"{query.period.first} to {query.period.last}",
    }
    return {"calls": calls, "runs": runs, "slow_ms": SLOW_MS, "reports": rows, "department_month": department}


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the lake, then print the timings."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    build_lake(lake_home(args.calls), args.calls)
    home = measure_home(args.calls)
    print(f"Home: first {home['first_ms']:.0f} ms (index build), warm {home['warm_ms']:.1f} ms")
    result = measure_reports(args.calls, args.runs)
    for row in result["reports"]:
        line = f"{row['report']:34} {row['period']:15} engine {row['engine_ms']:8.1f} ms"
        print(f"{line}  direct {row['direct_ms']:8.1f} ms")
    dep = result["department_month"]
    print(f"cost_by_department, one month: engine {dep['engine_ms']:.1f} ms, direct {dep['direct_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
