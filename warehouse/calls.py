"""Build the `calls` of UTC days from the raw legs, and the rollups, offers and gateway load derived from them.

Days are built a span at a time: consecutive days (in the order asked) whose raw legs add up to at
most `SPAN_LEGS` go through one set-based query, one pricing pass and one publish per dataset. The
query keys everything that relates legs by the day they started on, so a day's calls are the same
whichever span built it.
"""

from __future__ import annotations

import functools
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.config import Settings
from warehouse.cucm_format import CAUSES, REDIRECT_REASONS
from warehouse.gateway_load import build_load
from warehouse.lake import Lake, LakeWriter
from warehouse.offers import build_offers
from warehouse.rating import day_span, price_calls
from warehouse.schemas import empty_raw, raw_schema

# How a day's calls file is written (row groups small enough for readers to skip other people's rows).
CALLS_PARQUET = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000"
ROLLUP_PARQUET = "FORMAT parquet, COMPRESSION zstd"
# What the calls build derives per day (offers, gateway load): row groups that readers of a few keys skip.
DERIVED_PARQUET = CALLS_PARQUET
ENDPOINT_PREFIXES = ("sep", "csf", "bot", "tct", "tab", "ata", "cipc", "udp")
# Raw CDR legs built in one query: enough that the fixed cost of a query chain is spread thin, few
# enough that the query runs in memory (measured fastest between 250,000 and 500,000 legs).
SPAN_LEGS = 500_000
# Days whose files are written at the same time (each file is written by one thread).
WRITERS = 2


def sql_text(name: str) -> str:
    """The text of a query shipped in warehouse/sql."""
    return resources.files("warehouse").joinpath("sql", name).read_text(encoding="utf-8")


@functools.cache
def _needed_columns(kind: str) -> tuple[str, ...]:
    """The raw columns calls.sql reads (a day's legs are loaded with these only, not all 133)."""
    text = sql_text("calls.sql").lower()
    names = [f.name for f in raw_schema(kind) if f.name != "day"]
    return tuple(n for n in names if re.search(r"\b" + re.escape(n.lower()) + r"\b", text))


def _scan(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], kind: str) -> None:
    """Load the columns calls.sql needs from raw partition files; CMRs also get their partition's day."""
    schema = raw_schema(kind)
    columns = _needed_columns(kind)
    # the UTC day of the partition a CMR is filed under, as days since 1970 (calls.sql matches CMRs by it)
    extra = ", CAST(CAST(day AS DATE) - DATE '1970-01-01' AS BIGINT) AS cmr_day" if kind == "cmr" else ""
    if files:
        paths = [str(f) for f in files]
        read = "read_parquet(?, union_by_name = true, hive_partitioning = true)"
        present = {r[0].lower() for r in con.execute(f"DESCRIBE SELECT * FROM {read}", [paths]).fetchall()}
        # a column no file has (an older layout) reads as NULL of its lake type
        select = ", ".join(
            f'"{c}"' if c.lower() in present else f'CAST(NULL AS {_duck_type(schema.field(c).type)}) AS "{c}"'
            for c in columns
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}{extra} FROM {read}", [paths])
    else:
        con.register(f"{name}_empty", empty_raw(kind).select(list(columns)))
        extra = ", CAST(NULL AS BIGINT) AS cmr_day" if kind == "cmr" else ""
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT *{extra} FROM {name}_empty")
        con.unregister(f"{name}_empty")


def _duck_type(arrow_type: pa.DataType) -> str:
    return {pa.int64(): "BIGINT", pa.date32(): "DATE"}.get(arrow_type, "VARCHAR")


def _inventory(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT lower(origDeviceName) FROM cdr_in WHERE origDeviceName IS NOT NULL "
            "UNION SELECT DISTINCT lower(destDeviceName) FROM cdr_in WHERE destDeviceName IS NOT NULL"
        ).fetchall()
    ]
    rows: dict[str, list] = {"name": [], "kind": [], "label": [], "site": [], "tariff_plan": [], "channels": []}
    for name in names:
        dev = settings.device(name)
        if dev is None:
            continue
        rows["name"].append(name)
        rows["kind"].append(dev.kind)
        rows["label"].append(dev.label or name)
        rows["site"].append(dev.site)
        rows["tariff_plan"].append(dev.tariff_plan)
        rows["channels"].append(dev.channels)
    table = pa.table(
        rows,
        schema=pa.schema(
            [
                ("name", pa.string()),
                ("kind", pa.string()),
                ("label", pa.string()),
                ("site", pa.string()),
                ("tariff_plan", pa.string()),
                ("channels", pa.int32()),
            ]
        ),
    )
    con.register("devices", table)
    ranges = [(s.name, r.low, r.high, len(r.low)) for s in settings.sites for r in s.ranges]
    con.register(
        "site_ranges",
        pa.table(
            {
                "site": [r[0] for r in ranges],
                "low": [r[1] for r in ranges],
                "high": [r[2] for r in ranges],
                "digits": pa.array([r[3] for r in ranges], pa.int64()),
            },
            schema=pa.schema(
                [("site", pa.string()), ("low", pa.string()), ("high", pa.string()), ("digits", pa.int64())]
            ),
        ),
    )
    con.register(
        "cause_codes",
        pa.table({"code": pa.array(list(CAUSES), pa.int64()), "text": list(CAUSES.values())}),
    )
    con.register(
        "redirect_codes",
        pa.table({"code": pa.array(list(REDIRECT_REASONS), pa.int64()), "text": list(REDIRECT_REASONS.values())}),
    )


def calls_relation(
    con: duckdb.DuckDBPyConnection, settings: Settings, first: date, last: date
) -> duckdb.DuckDBPyRelation:
    """The calls of the days first..last as a relation, given `cdr_in` and `cmr_in` on the connection."""
    _inventory(con, settings)
    params = {
        "day_start": int(day_span(first)[0].timestamp()),
        "day_end": int(day_span(last)[1].timestamp()),
        "charge_forwarder": settings.ingest.forwarded_calls_charged_to == "forwarder",
        "ranges_configured": any(s.internal_ranges for s in settings.sites),
    }
    return con.sql(sql_text("calls.sql"), params=params)


def _spans(lake: Lake, days: list[date]) -> list[list[date]]:
    """The days cut into spans of at most SPAN_LEGS raw legs (a day bigger than that is a span of its own)."""
    if len(days) < 2:
        return [days] if days else []  # the pipeline's minute-by-minute case: no file needs opening
    spans: list[list[date]] = []
    legs = 0
    for day in days:
        n = sum(pq.ParquetFile(f).metadata.num_rows for f in lake.files("raw_cdr", [day]))
        if spans and legs + n <= SPAN_LEGS:
            spans[-1].append(day)
            legs += n
        else:
            spans.append([day])
            legs = n
    return spans


def build_span(writer: LakeWriter, settings: Settings, days: list[date], con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild and publish the calls and what is derived from them (rollups, rating records, offers,
    gateway load) of some UTC days; returns the rows.

    Each day's partition is replaced, emptied when the day has no calls any more.
    """
    lake = writer.lake
    _scan(con, "cdr_in", lake.files("raw_cdr", days), "cdr")
    _scan(con, "cmr_in", lake.files("raw_cmr", sorted(set(days) | {d + timedelta(days=1) for d in days})), "cmr")
    con.execute("DROP TABLE IF EXISTS calls_day")
    # calls.sql puts the small side of each join on the right; left to itself, DuckDB would hash the
    # wide rows of the legs to look up their CMRs (three times slower over a million legs)
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        calls_relation(con, settings, min(days), max(days)).to_table("calls_day")
    finally:
        con.execute("RESET disabled_optimizers")
    # classify the numbers and price the rows before anything is written (warehouse.rating); the
    # priced table comes sorted by day, extension and time, so that each day's file is a range of it
    pricing = price_calls(con, writer, settings, days)
    con.execute(f"CREATE OR REPLACE TABLE rollup_span AS {ROLLUP_SQL.format(table='calls_day')}")
    con.execute(f"CREATE OR REPLACE TABLE quarter_span AS {QUARTER_HOURS_SQL.format(table='calls_day')}")
    counts = dict(con.execute("SELECT started_at::DATE, count(*) FROM calls_day GROUP BY 1").fetchall())
    stage = lake.staging_dir(f"calls-{min(days)}-{uuid.uuid4().hex[:8]}")
    calls = {str(d): [stage / f"calls-{uuid.uuid4().hex[:12]}.parquet"] if counts.get(d) else [] for d in days}
    rollups = {str(d): [stage / f"rollup-{uuid.uuid4().hex[:12]}.parquet"] if counts.get(d) else [] for d in days}
    quarters = {str(d): [stage / f"quarters-{uuid.uuid4().hex[:12]}.parquet"] if counts.get(d) else [] for d in days}

    def write(cursor: duckdb.DuckDBPyConnection, day: date) -> None:
        start, end = day_span(day)
        of_day = f"started_at >= TIMESTAMPTZ '{start.isoformat()}' AND started_at < TIMESTAMPTZ '{end.isoformat()}'"
        cursor.execute(f"COPY (FROM calls_day WHERE {of_day}) TO '{calls[str(day)][0]}' ({CALLS_PARQUET})")
        cursor.execute(
            f"COPY (FROM rollup_span WHERE utc_day = DATE '{day}') TO '{rollups[str(day)][0]}' ({ROLLUP_PARQUET})"
        )
        cursor.execute(f"COPY (FROM quarter_span WHERE {of_day}) TO '{quarters[str(day)][0]}' ({ROLLUP_PARQUET})")

    write_days(con, [d for d in days if counts.get(d)], write)
    writer.publish("calls", replace=calls)
    writer.publish("daily_rollups", replace=rollups)
    writer.publish("quarter_hours", replace=quarters)
    writer.publish(
        "rating_days",
        replace={str(d): [pricing.records[d]] if counts.get(d) else [] for d in days},
    )
    con.execute("DROP TABLE calls_day")
    con.execute("DROP TABLE rollup_span")
    con.execute("DROP TABLE quarter_span")
    # the incoming call analysis's offers and the gateways' quarter-hour load, from the calls just
    # published (warehouse.offers, warehouse.gateway_load)
    build_offers(writer, settings, days, con)
    build_load(writer, settings, days, con)
    return sum(counts.values())


def write_days(con: duckdb.DuckDBPyConnection, days: list[date], write) -> None:
    """Call `write(cursor, day)` for each day, WRITERS days side by side, each on a cursor of `con`.

    A day's file is one row group, written by one thread; the tables written from must be regular
    tables (a cursor does not see another's temporary ones).
    """
    cursors = [con.cursor() for _ in range(min(WRITERS, len(days)))]

    def write_share(i: int) -> None:
        for day in days[i :: len(cursors)]:
            write(cursors[i], day)

    try:
        with ThreadPoolExecutor(max_workers=len(cursors) or 1) as pool:
            list(pool.map(write_share, range(len(cursors))))
    finally:
        for cursor in cursors:
            cursor.close()


def copy_days(
    con: duckdb.DuckDBPyConnection, table: str, column: str, files: dict[str, list[Path]], days: list[date]
) -> int:
    """Copy the rows of `table` (ours) whose `column` falls in each UTC day to that day's file
    (`files[day][0]`, derived-data Parquet), WRITERS days side by side; returns the rows written."""
    counted: list[int] = []

    def write(cursor: duckdb.DuckDBPyConnection, day: date) -> None:
        first, last = day_span(day)
        copied = cursor.execute(
            f"COPY (FROM {table} WHERE {column} >= $first AND {column} < $last) "
            f"TO '{files[str(day)][0]}' ({DERIVED_PARQUET})",
            {"first": first, "last": last},
        ).fetchone()
        counted.append(int(copied[0]) if copied else 0)

    write_days(con, days, write)
    return sum(counted)


# The daily rollup of a table shaped like `calls` (cost, calls and minutes per day, extension, gateway, destination).
ROLLUP_SQL = """
SELECT CAST(started_at AS DATE) AS utc_day, extension, site, gateway, direction,
       destination_type, nation, currency,
       count(*) FILTER (WHERE counted) AS calls,
       count(*) FILTER (WHERE counted AND answered) AS answered,
       count(*) FILTER (WHERE counted AND missed) AS missed,
       sum(duration_s) FILTER (WHERE counted) AS duration_s,
       sum(cost) AS cost
FROM {table}
GROUP BY ALL
"""


# The counted calls of a table shaped like `calls` per quarter of an hour (UTC) they started in, direction
# and currency: what the trend report reads over long periods (warehouse.reports.engine). Every time zone
# is a whole number of quarters off UTC, so the quarters make up any local day, hour or month exactly.
QUARTER_HOURS_SQL = """
SELECT to_timestamp((CAST(epoch(started_at) AS BIGINT) // 900) * 900) AS started_at, direction, currency,
       count(*) AS calls,
       count(*) FILTER (WHERE missed) AS missed,
       sum(duration_s) AS duration_s,
       sum(cost) AS cost
FROM {table}
WHERE counted
GROUP BY ALL
"""


def write_rollup(con: duckdb.DuckDBPyConnection, table: str, target: Path, quarters: Path) -> None:
    """Write the daily and quarter-hour rollups of a calls table (a name from our own code) to Parquet files."""
    con.execute(f"COPY ({ROLLUP_SQL.format(table=table)}) TO '{target}' ({ROLLUP_PARQUET})")
    con.execute(f"COPY ({QUARTER_HOURS_SQL.format(table=table)}) TO '{quarters}' ({ROLLUP_PARQUET})")


def build_days(writer: LakeWriter, settings: Settings, days: list[date], progress=None) -> int:
    """Rebuild the calls of several days (the caller holds the lake lock); returns the rows written."""
    from warehouse.cucm import new_connection

    total = 0
    frozen = writer.lake.frozen_before()
    # retention purged or anonymised the raw legs of older days: rebuilding them would lose their calls
    ordered = sorted(d for d in set(days) if frozen is None or d >= frozen)
    con = new_connection()
    try:
        done = 0
        for span in _spans(writer.lake, ordered):
            total += build_span(writer, settings, span, con)
            for day in span:
                done += 1
                if progress:
                    progress(done, len(ordered), day)
    finally:
        con.close()
    return total


def empty_calls() -> pa.Table:
    """An empty table with every column of `calls` (the schema when nothing has been ingested)."""
    from warehouse.config import Settings
    from warehouse.cucm import new_connection

    con = new_connection()
    try:
        _scan(con, "cdr_in", [], "cdr")
        _scan(con, "cmr_in", [], "cmr")
        settings = Settings(home=Path())
        return calls_relation(con, settings, date(1970, 1, 1), date(1970, 1, 1)).limit(0).to_arrow_table()
    finally:
        con.close()
