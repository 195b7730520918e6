"""Offers to lines and to hunt pilots stored per UTC day (`offers`, `pilot_offers`), and when reports read them.

The incoming call analysis (answer rate by extension, incoming calls by hour) pairs every leg that
rang a line with the rest of its call (warehouse/sql/offers.sql). Over a year that is the year's legs
joined to themselves, far past what fits in memory at 100M calls; yet each offer lives within its
call, seconds or minutes long. So the calls build works the offers out a few days at a time, from
the calls it has just published, and stores them: a year of answer rates is then a read of offers.

An offer's day is the UTC day of its first ring. Its outcome may depend on the next day's legs (a
call sent to voicemail just after midnight), so building day d reads the calls of d and d + 1, and
building a day refreshes the day before when one of that day's offered calls carries on into it.

Which devices are voicemail or conference ports decides which legs are lines, and the inventory can
change at any time. Each file's name carries a key of the inventory it was built with
(`offers-k<key>-<id>.parquet`); a report reads the stored offers only when every day of its period
that has calls was stored with today's key. Otherwise it runs the same query over the calls, which
gives the same rows, only slower, until the pipeline's `inventory_sensor` has stored them again
(`rebuild_offers`).

The calls offered to hunt pilots are stored the same way (`pilot_offers`, from
warehouse/reports/sql/pilot_offers.sql), without a key: what a pilot's member legs are does not depend
on the inventory. Every stored pilot offer shows only to a reader who may see every call; others see
the offers of the members they may see, worked out from the calls.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb

from warehouse.lake import Lake, LakeWriter
from warehouse.querytext import expand, report_sql, sql_paths, strip_comments
from warehouse.rating import day_span

# offers-k<key>-<id>.parquet, and the same for other datasets keyed by the inventory (warehouse.gateway_load)
_KEY = re.compile(r"^[a-z_]+-k([0-9a-f]+)-")


def inventory_key(settings) -> str:
    """A short key of what decides device kinds: every inventory entry's name or pattern and kind, in order."""
    entries = [(dev.device.lower(), dev.kind) for dev in (getattr(settings, "devices", None) or [])]
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:12]


def file_key(path: Path | str) -> str | None:
    """The inventory key a file was built with (None for a file not named with one)."""
    match = _KEY.match(Path(path).name)
    return match.group(1) if match else None


def offers_sql(legs: str, settings, params) -> str:
    """offers.sql over a relation of legs (our own SQL text, never user input); values go into `params`."""
    from warehouse.calls import sql_text
    from warehouse.reports.inputs import devices_sql

    text = strip_comments(sql_text("offers.sql"))
    return text.replace("{{legs}}", legs).replace("{{devices}}", devices_sql(settings, params))


def pilot_offers_sql(legs: str) -> str:
    """pilot_offers.sql over a relation of legs (our own SQL text, never user input)."""
    return expand(strip_comments(report_sql("pilot_offers.sql"))).replace("{{legs}}", legs)


def _carries_on(con: duckdb.DuckDBPyConnection, lake: Lake, dataset: str, day: date) -> bool:
    """True when a call offered on `day` has legs on the next day (its offers may end differently now)."""
    offers = lake.files(dataset, [day])
    calls = lake.files("calls", [day + timedelta(days=1)])
    if not offers or not calls:
        return False
    found = con.execute(
        f"SELECT EXISTS (SELECT 1 FROM read_parquet({sql_paths(calls)}, union_by_name = true) "
        f"WHERE call_id IN (SELECT call_id FROM read_parquet({sql_paths(offers)}, union_by_name = true)))"
    ).fetchone()
    return bool(found and found[0])


def build_offers(writer: LakeWriter, settings, days: list[date], con: duckdb.DuckDBPyConnection) -> int:
    """Work out and publish the offers to lines and to hunt pilots of some UTC days from the lake's calls.

    Returns the offers to lines written. The day before the first is done again when one of its
    offered calls goes on into that day. A day without calls has no partition; a day with calls gets
    a file even when nothing rang a line, so that the day counts as stored.
    """
    from warehouse.reports.filters import Params

    def lines(legs: str) -> tuple[str, dict]:
        params = Params()
        # the calls' partition column is the day the file goes to
        return f"SELECT * EXCLUDE (day) FROM ({offers_sql(legs, settings, params)})", params.values

    key = inventory_key(settings)
    written = _build_by_first_ring(writer, days, con, "offers", f"offers-k{key}", lines, "extension")
    build_pilot_offers(writer, settings, days, con)
    return written


def build_pilot_offers(writer: LakeWriter, settings, days: list[date], con: duckdb.DuckDBPyConnection) -> int:
    """Work out and publish the offers to hunt pilots of some UTC days (as `build_offers`); returns them."""

    def pilots(legs: str) -> tuple[str, dict]:
        return pilot_offers_sql(legs), {}

    return _build_by_first_ring(writer, days, con, "pilot_offers", "pilots", pilots, "hunt_pilot")


def _build_by_first_ring(
    writer: LakeWriter,
    days: list[date],
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    prefix: str,
    query: Callable[[str], tuple[str, dict]],
    sort_key: str,
) -> int:
    """Publish `dataset`: the rows `query(legs)` gives over the calls of the days and the day after,
    each in the file of the UTC day it started on (`prefix`-<id>.parquet), sorted by the column `sort_key`
    (readers that pick some of its values skip the rest of the file) and time; returns the rows written."""
    from warehouse.calls import copy_days

    lake = writer.lake
    wanted = set(days)
    if not wanted:
        return 0
    before = min(wanted) - timedelta(days=1)
    if before not in wanted and _carries_on(con, lake, dataset, before):
        wanted.add(before)
    read = sorted(wanted | {d + timedelta(days=1) for d in wanted})
    files = lake.files("calls", read)
    with_calls = [d for d in sorted(wanted) if lake.files("calls", [d])]
    written: dict[str, list[Path]] = {str(d): [] for d in sorted(wanted)}
    total = 0
    if files and with_calls:
        legs = f"(SELECT * FROM read_parquet({sql_paths(files)}, union_by_name = true, hive_partitioning = true))"
        text, values = query(legs)
        values = {**values, "span_from": day_span(min(with_calls))[0], "span_to": day_span(max(with_calls))[1]}
        con.execute(
            f"CREATE OR REPLACE TABLE first_ring_span AS SELECT * FROM ({text}) "
            f"WHERE started_at >= $span_from AND started_at < $span_to ORDER BY {sort_key}, started_at",
            values,
        )
        stage = lake.staging_dir(f"{dataset}-{min(wanted)}-{uuid.uuid4().hex[:8]}")
        written.update({str(d): [stage / f"{prefix}-{uuid.uuid4().hex[:12]}.parquet"] for d in with_calls})
        total = copy_days(con, "first_ring_span", "started_at", written, with_calls)
        con.execute("DROP TABLE first_ring_span")
    writer.publish(dataset, replace=written)
    return total


def stored_keys(lake: Lake, dataset: str = "offers") -> dict[str, str | None]:
    """Each day with stored files and the inventory key they were built with (None: files with different keys)."""
    keys = {}
    for day, names in lake.manifest(dataset).partitions.items():
        found = {file_key(name) for name in names}
        keys[day] = found.pop() if len(found) == 1 else None
    return keys


def stale_days(settings) -> list[date]:
    """The days with calls whose offers are not stored, or were stored with another device inventory."""
    lake = Lake(settings.lake_dir)
    key = inventory_key(settings)
    stored = stored_keys(lake)
    return [date.fromisoformat(day) for day in lake.days("calls") if stored.get(day) != key]


def rebuild_offers(settings, days: list[date] | None = None, build=None) -> int:
    """Store the offers of some days again (every day with calls when None), from the lake's calls.

    `build` is `build_offers` (to lines and to pilots) unless another such function is given.
    """
    from warehouse.cucm import new_connection

    lake = Lake(settings.lake_dir)
    if days is None:
        days = [date.fromisoformat(d) for d in lake.days("calls")]
    con = new_connection()
    try:
        with lake.writer() as writer:
            return build_offers_by_week(writer, settings, days, con, build or build_offers)
    finally:
        con.close()


def build_offers_by_week(
    writer: LakeWriter, settings, days: list[date], con: duckdb.DuckDBPyConnection, build=None
) -> int:
    """`build_offers` (or `build`) a week of days at a time (each query holds its days' legs, and the day after)."""
    ordered = sorted(set(days))
    build = build or build_offers
    return sum(build(writer, settings, ordered[i : i + 7], con) for i in range(0, len(ordered), 7))
