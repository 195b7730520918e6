"""Test data for budgets and phone lock: directory people, and priced calls written into the lake.

Rating fills `cost` in real ingests; these tests write `calls` partitions directly through the lake
writer (the same atomic publish the pipeline uses), so a budget sees exactly the costs a test chose.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse import appdb
from warehouse.calls import empty_calls
from warehouse.directory import Person, apply
from warehouse.lake import Lake

STAFF = [
    # username, display name, department, cost centre, manager, extensions, language
    ("anna", "Anna Berg", "Sales", "CC-100", "maria", ["2001"], "en"),
    ("bruno", "Bruno Conti", "Sales", "CC-100", "maria", ["2002"], "it"),
    ("carla", "Carla Diaz", "Support", "CC-200", "maria", ["2003"], "es"),
    ("maria", "Maria Manager", "Management", "CC-900", "", ["2009"], "de"),
    ("root", "Rita Admin", "IT", "CC-900", "", [], "en"),
]


def staff(settings, time_zone: str = "Europe/Rome"):
    """Load the test company into the directory (and its lake snapshot); returns the app database."""
    engine = appdb.open_db(settings)
    people = [
        Person(
            username=u,
            display_name=name,
            first_name=name.split()[0],
            last_name=name.split()[1],
            email=f"{u}@example.org",
            department=dept,
            cost_centre=cc,
            manager=manager,
            language=lang,
            time_zone=time_zone,
            role="administrator" if u == "root" else ("supervisor" if u == "maria" else "user"),
            extensions=exts,
        )
        for u, name, dept, cc, manager, exts, lang in STAFF
    ]
    apply(engine, people, source="local", lake=Lake(settings.lake_dir))
    return engine


def write_calls(settings, calls: list[dict]) -> None:
    """Publish priced outgoing calls: dicts with extension, started_at and cost (plus any calls column)."""
    schema = empty_calls().schema
    by_day: dict[str, list[dict]] = {}
    for c in calls:
        started: datetime = c["started_at"]
        row = {
            "call_id": f"test:{uuid.uuid4().hex}",
            "leg_id": uuid.uuid4().hex,
            "pkid": uuid.uuid4().hex,
            "direction": "outgoing",
            "leg_role": "caller",
            "leg_kind": "call",
            "counted": True,
            "billable": True,
            "answered": True,
            "missed": False,
            "duration_s": 60,
            "ring_s": 5,
            "other_number": "00390212345678",
            "destination_type": "national",
            "currency": "EUR",
            "answered_at": started,
            "ended_at": started,
            **c,
        }
        row["cost"] = Decimal(str(row["cost"])) if row.get("cost") is not None else None
        by_day.setdefault(started.astimezone(UTC).date().isoformat(), []).append(row)
    lake = Lake(settings.lake_dir)
    with lake.writer() as writer:
        for day, rows in by_day.items():
            stage = lake.staging_dir(f"test-calls-{uuid.uuid4().hex[:8]}")
            path = stage / f"calls-{uuid.uuid4().hex[:12]}.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
            writer.publish("calls", add={day: [path]})
