"""Each gateway's channel load per quarter hour, stored per UTC day (lake dataset `gateway_load`).

The capacity reports (utilisation by hour, concurrent calls, busiest hours, Erlang B sizing) sweep
every channel a call held: each seizure adds one call up, each release takes one away. Over a year
of a large company that sorts every seizure of the year per gateway and spills to disk. Yet every
figure they show follows from quarter hours (warehouse/reports/sql/gateway_quarters.sql): seconds
held and seizures add up, an hour's peak is the highest of its quarters'. So the calls build stores
each day's quarters, and a year of capacity is a read of about 35,000 rows per gateway.

A quarter counts the legs still up from the day before (the reports look back one day the same
way), so building day d reads the calls of d - 1 and d, and building a day builds the day after too.

Which devices are gateways and trunks, their labels and their channels come from the inventory,
which can change at any time: like the offers (warehouse.offers), each file's name carries a key of
the inventory it was built with (`load-k<key>-<id>.parquet`), a report reads the stored quarters only
when every day of its period was stored with today's key, and the pipeline stores them again after a
change (`rebuild`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, timedelta

import duckdb

from warehouse.lake import Lake, LakeWriter
from warehouse.offers import stored_keys
from warehouse.querytext import expand, report_sql, sql_paths, strip_comments
from warehouse.rating import day_span

DATASET = "gateway_load"
QUARTER_S = 900


def load_key(settings) -> str:
    """A short key of what decides a gateway's name and channels: the gateway and trunk entries, in order."""
    entries = [
        (dev.device.lower(), dev.kind, dev.label, dev.channels)
        for dev in (getattr(settings, "devices", None) or [])
        if dev.kind in ("gateway", "trunk")
    ]
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:12]


def quarters_sql(calls: str, settings, params) -> str:
    """gateway_quarters.sql over a relation of carrier rows (our own SQL text); values go into `params`."""
    from warehouse.reports.inputs import devices_sql

    text = expand(strip_comments(report_sql("gateway_quarters.sql")))
    return text.replace("{{calls}}", calls).replace("{{devices}}", devices_sql(settings, params))


def _runs(days: list[date]) -> list[list[date]]:
    """Days in runs of consecutive days."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def build_load(
    writer: LakeWriter, settings, days: list[date], con: duckdb.DuckDBPyConnection, *, next_days: bool = True
) -> int:
    """Work out and publish the gateway quarters of some UTC days from the lake's calls.

    With `next_days` (calls of these days changed) the day after each is built again too. Returns the
    quarters written. A day without calls has no partition; a day with calls gets a file even when
    no call held a channel, so that the day counts as stored.
    """
    from warehouse.calls import copy_days
    from warehouse.reports.filters import Params

    lake = writer.lake
    wanted = set(days) | ({d + timedelta(days=1) for d in days} if next_days else set())
    with_calls = [d for d in sorted(wanted) if lake.files("calls", [d])]
    written: dict[str, list] = {str(d): [] for d in sorted(wanted) if d in set(days) or d in with_calls}
    key = load_key(settings)
    total = 0
    for run in _runs(with_calls):
        files = lake.files("calls", [run[0] - timedelta(days=1), *run])
        params = Params()
        start, end = day_span(run[0])[0], day_span(run[-1])[1]
        params.values.update(period_start=start, period_end=end, interval_s=QUARTER_S, zone="UTC")
        params.values["read_from"] = start - timedelta(days=1)  # legs still up: the reports look back a day too
        calls = (
            f"(SELECT * FROM read_parquet({sql_paths(files)}, union_by_name = true, hive_partitioning = true) AS c "
            "WHERE c.trunk_leg_id IS NOT NULL AND c.started_at >= $read_from AND c.started_at < $period_end) AS c"
        )
        con.execute(
            f"CREATE OR REPLACE TABLE load_span AS FROM ({quarters_sql(calls, settings, params)}) "
            "ORDER BY gateway, quarter_start",
            params.values,
        )
        stage = lake.staging_dir(f"load-{run[0]}-{uuid.uuid4().hex[:8]}")
        written.update({str(d): [stage / f"load-k{key}-{uuid.uuid4().hex[:12]}.parquet"] for d in run})
        total += copy_days(con, "load_span", "quarter_start", written, run)
        con.execute("DROP TABLE load_span")
    writer.publish(DATASET, replace=written)
    return total


def stale_days(settings) -> list[date]:
    """The days with calls whose quarters are not stored, or were stored with another gateway inventory."""
    lake = Lake(settings.lake_dir)
    key = load_key(settings)
    stored = stored_keys(lake, DATASET)
    return [date.fromisoformat(day) for day in lake.days("calls") if stored.get(day) != key]


def rebuild(settings, days: list[date] | None = None) -> int:
    """Store the quarters of some days again (every day with calls when None), a week of days at a time."""
    from warehouse.cucm import new_connection

    lake = Lake(settings.lake_dir)
    ordered = sorted(set(days if days is not None else [date.fromisoformat(d) for d in lake.days("calls")]))
    con = new_connection()
    try:
        with lake.writer() as writer:
            return sum(
                build_load(writer, settings, ordered[i : i + 7], con, next_days=False)
                for i in range(0, len(ordered), 7)
            )
    finally:
        con.close()
