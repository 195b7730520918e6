"""Calls partitions written straight into a lake, for report tests that need calls of an exact shape.

`leg(...)` is one row of `calls` with the columns a test names and neutral values for the rest
(answered when it has an answer time, counted, a plain call); `write_calls(settings, legs, people)`
publishes the rows as the pipeline lays them out (one folder per UTC day of `started_at`) and the
people as the directory snapshot, so `warehouse.connect()` and the report engine read them as they
read ingested calls.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

_ids = iter(range(1, 10**9))


def leg(
    started_at: datetime,
    ended_at: datetime,
    answered_at: datetime | None = None,
    **values,
) -> dict:
    """One calls row: times (UTC), and any other column by name."""
    n = next(_ids)
    row = {
        "call_id": f"T:1:{n}",
        "leg_id": f"T:{n}1:{n}2",
        "pkid": f"pk-{n}",
        "cluster": "T",
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "duration_s": int((ended_at - answered_at).total_seconds()) if answered_at else 0,
        "ring_s": int(((answered_at or ended_at) - started_at).total_seconds()),
        "direction": "incoming",
        "leg_role": "callee",
        "leg_kind": "call",
        "counted": True,
        "billable": True,
        "answered": answered_at is not None,
        "missed": False,
        "transferred": False,
        "forwarded": False,
        "cause_code": 16,
        "site": "",
    }
    row.update(values)
    return row


def write_calls(settings, legs: list[dict], people: list[tuple[str, str, str, str]] = ()) -> None:
    """Publish the rows as `calls` partitions and `people` (user_id, name, department, extension) as the directory."""
    from warehouse.calls import empty_calls
    from warehouse.lake import Lake
    from warehouse.views import DIRECTORY_SCHEMAS

    lake = Lake(settings.lake_dir)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    schema = empty_calls()
    con.register("_schema", schema)
    con.execute("CREATE TABLE calls AS SELECT * FROM _schema LIMIT 0")
    con.unregister("_schema")
    con.execute("ALTER TABLE calls ADD COLUMN day DATE")
    for row in legs:
        unknown = set(row) - set(schema.column_names)
        assert not unknown, f"not columns of calls: {sorted(unknown)}"
        names = list(row)
        con.execute(
            f"INSERT INTO calls ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [row[k] for k in names],
        )
    con.execute("UPDATE calls SET day = cast(started_at AS date)")
    with lake.writer() as writer:
        stage = lake.staging_dir(f"test-{uuid.uuid4().hex[:8]}")
        out = stage / "calls"
        con.execute(
            f"COPY (SELECT * FROM calls ORDER BY day, extension, started_at) TO '{out}' "
            "(FORMAT parquet, PARTITION_BY (day), WRITE_PARTITION_COLUMNS false)"
        )
        parts: dict[str, list[Path]] = {}
        for folder in sorted(out.glob("day=*")):
            parts[folder.name.removeprefix("day=")] = sorted(folder.glob("*.parquet"))
        writer.publish("calls", replace=parts)
        users = pa.Table.from_pylist(
            [
                {"user_id": uid, "user_name": name, "department": dept, "role": "user", "active": True}
                for uid, name, dept, _ext in people
            ],
            schema=DIRECTORY_SCHEMAS["users"],
        )
        owners = pa.Table.from_pylist(
            [{"extension": ext, "user_id": uid} for uid, _name, _dept, ext in people],
            schema=DIRECTORY_SCHEMAS["extensions"],
        )
        files = []
        for name, table in (("users", users), ("extensions", owners)):
            path = stage / f"{name}-{uuid.uuid4().hex[:12]}.parquet"
            pq.write_table(table, path)
            files.append(path)
        writer.publish("directory", replace={"": files})
    con.close()
