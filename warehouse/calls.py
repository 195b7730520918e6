"""Build the `calls` and `daily_rollups` partitions of a UTC day from the raw CDR and CMR legs."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.config import Settings
from warehouse.cucm_format import CAUSES, REDIRECT_REASONS
from warehouse.lake import LakeWriter
from warehouse.rating import price_calls_day
from warehouse.schemas import empty_raw, raw_schema

# How a day's calls file is written (row groups small enough for readers to skip other people's rows).
CALLS_PARQUET = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000"
ENDPOINT_PREFIXES = ("sep", "csf", "bot", "tct", "tab", "ata", "cipc", "udp")


def sql_text(name: str) -> str:
    """The text of a query shipped in warehouse/sql."""
    return resources.files("warehouse").joinpath("sql", name).read_text(encoding="utf-8")


def _day_bounds(day: date) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


@functools.cache
def _needed_columns(kind: str) -> tuple[str, ...]:
    """The raw columns calls.sql reads (a day's legs are loaded with these only, not all 133)."""
    text = sql_text("calls.sql").lower()
    names = [f.name for f in raw_schema(kind) if f.name != "day"]
    return tuple(n for n in names if re.search(r"\b" + re.escape(n.lower()) + r"\b", text))


def _scan(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], kind: str) -> None:
    schema = raw_schema(kind)
    columns = _needed_columns(kind)
    if files:
        paths = [str(f) for f in files]
        present = {
            r[0].lower()
            for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [paths]).fetchall()
        }
        # a column no file has (an older layout) reads as NULL of its lake type
        select = ", ".join(
            f'"{c}"' if c.lower() in present else f'CAST(NULL AS {_duck_type(schema.field(c).type)}) AS "{c}"'
            for c in columns
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} FROM read_parquet(?, union_by_name = true)",
            [paths],
        )
    else:
        con.register(f"{name}_empty", empty_raw(kind).select(list(columns)))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_empty")
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


def calls_relation(con: duckdb.DuckDBPyConnection, settings: Settings, day: date) -> duckdb.DuckDBPyRelation:
    """The calls of one day as a relation, given `cdr_in` and `cmr_in` on the connection."""
    _inventory(con, settings)
    start, end = _day_bounds(day)
    params = {
        "day_start": start,
        "day_end": end,
        "charge_forwarder": settings.ingest.forwarded_calls_charged_to == "forwarder",
        "ranges_configured": any(s.internal_ranges for s in settings.sites),
    }
    return con.sql(sql_text("calls.sql"), params=params)


def build_day(writer: LakeWriter, settings: Settings, day: date, con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild and publish the calls and daily rollups of one UTC day; returns the number of rows."""
    lake = writer.lake
    next_day = day + timedelta(days=1)
    _scan(con, "cdr_in", lake.files("raw_cdr", [day]), "cdr")
    _scan(con, "cmr_in", lake.files("raw_cmr", [day, next_day]), "cmr")
    stage = lake.staging_dir(f"calls-{day}-{uuid.uuid4().hex[:8]}")
    target = stage / f"calls-{uuid.uuid4().hex[:12]}.parquet"
    rel = calls_relation(con, settings, day)
    con.execute("DROP TABLE IF EXISTS calls_day")
    rel.to_table("calls_day")
    # classify the numbers and price the rows before anything is written (warehouse.rating)
    pricing = price_calls_day(con, writer, settings, day)
    rows = con.execute("SELECT count(*) FROM calls_day").fetchall()[0][0]
    if rows:
        con.execute(f"COPY calls_day TO '{target}' ({CALLS_PARQUET})")
        writer.publish("calls", replace={str(day): [target]})
    else:
        writer.publish("calls", replace={str(day): []})
    rollup = stage / f"rollup-{uuid.uuid4().hex[:12]}.parquet"
    write_rollup(con, "calls_day", rollup)
    writer.publish("daily_rollups", replace={str(day): [rollup] if rows else []})
    writer.publish("rating_days", replace={str(day): [pricing.record] if rows and pricing.record else []})
    con.execute("DROP TABLE IF EXISTS calls_day")
    return rows


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


def write_rollup(con: duckdb.DuckDBPyConnection, table: str, target: Path) -> None:
    """Write the daily rollup of a calls table (a name from our own code, never user input) to a Parquet file."""
    con.execute(f"COPY ({ROLLUP_SQL.format(table=table)}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")


def build_days(writer: LakeWriter, settings: Settings, days: list[date], progress=None) -> int:
    """Rebuild the calls of several days (the caller holds the lake lock); returns the rows written."""
    from warehouse.cucm import new_connection

    total = 0
    frozen = writer.lake.frozen_before()
    # retention purged or anonymised the raw legs of older days: rebuilding them would lose their calls
    ordered = sorted(d for d in set(days) if frozen is None or d >= frozen)
    con = new_connection()
    try:
        for i, day in enumerate(ordered):
            total += build_day(writer, settings, day, con)
            if progress:
                progress(i + 1, len(ordered), day)
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
        return calls_relation(con, settings, date(1970, 1, 1)).limit(0).to_arrow_table()
    finally:
        con.close()
