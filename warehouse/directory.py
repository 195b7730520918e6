"""The directory: users and who had which extension when, in the app database, with a lake snapshot.

Calls get their user, department and cost centre when they are read, by joining the extension
assignment that covers the call's start, so a change of owner or department needs no rebuild.
The snapshot in `lake/directory` is what DuckDB joins; it is rewritten after every change.
"""

from __future__ import annotations

import csv
import io
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse.appdb import extension_assignment, users, utcnow
from warehouse.lake import Lake
from warehouse.views import DIRECTORY_SCHEMAS

CSV_COLUMNS = (
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "department",
    "cost_centre",
    "manager",
    "site",
    "language",
    "time_zone",
    "role",
    "extensions",
    "valid_from",
)
ROLES = ("user", "supervisor", "administrator")


class DirectoryError(ValueError):
    """A directory file or entry is wrong; the message names file, line and field."""


@dataclass
class Person:
    """One directory entry as read from a file or a directory server."""

    username: str
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department: str = ""
    cost_centre: str = ""
    manager: str = ""
    site: str = ""
    language: str = ""
    time_zone: str = ""
    role: str = "user"
    extensions: list[str] = field(default_factory=list)
    valid_from: datetime | None = None


@dataclass
class ImportResult:
    """What an import changed."""

    created: int = 0
    updated: int = 0
    extensions_assigned: int = 0
    extensions_closed: int = 0


def read_csv(path: Path) -> list[Person]:
    """Read a directory CSV (see CSV_COLUMNS; extensions separated by ';')."""
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    missing = {"username"} - set(reader.fieldnames or [])
    if missing:
        raise DirectoryError(f"{path}: line 1: the header has no 'username' column")
    unknown = set(reader.fieldnames or []) - set(CSV_COLUMNS)
    if unknown:
        raise DirectoryError(f"{path}: line 1: unknown column(s) {', '.join(sorted(unknown))}")
    people: list[Person] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num

        def value(name: str, row=row) -> str:
            return (row.get(name) or "").strip()

        username = value("username")
        if not username:
            raise DirectoryError(f"{path}: line {line}: username is empty")
        if username in seen:
            raise DirectoryError(f"{path}: line {line}: username {username!r} appears twice")
        seen.add(username)
        role = value("role") or "user"
        if role not in ROLES:
            raise DirectoryError(f"{path}: line {line}: role {role!r} is not one of {', '.join(ROLES)}")
        zone = value("time_zone")
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise DirectoryError(f"{path}: line {line}: time_zone {zone!r} is not a known time zone") from None
        exts = [e.strip() for e in value("extensions").replace(",", ";").split(";") if e.strip()]
        for ext in exts:
            if not ext.replace("+", "").isalnum():
                raise DirectoryError(f"{path}: line {line}: extension {ext!r} is not a directory number")
        valid_from = None
        if value("valid_from"):
            try:
                valid_from = datetime.fromisoformat(value("valid_from"))
            except ValueError:
                raise DirectoryError(
                    f"{path}: line {line}: valid_from {value('valid_from')!r} is not an ISO date or time"
                ) from None
            if valid_from.tzinfo is None:
                valid_from = valid_from.replace(tzinfo=UTC)
        people.append(
            Person(
                username=username,
                display_name=value("display_name") or f"{value('first_name')} {value('last_name')}".strip(),
                first_name=value("first_name"),
                last_name=value("last_name"),
                email=value("email"),
                department=value("department"),
                cost_centre=value("cost_centre"),
                manager=value("manager"),
                site=value("site"),
                language=value("language"),
                time_zone=zone,
                role=role,
                extensions=exts,
                valid_from=valid_from,
            )
        )
    return people


def apply(engine: Engine, people: list[Person], source: str, lake: Lake | None = None) -> ImportResult:
    """Create or update these people and their extensions; publish the directory snapshot."""
    result = ImportResult()
    now = utcnow()
    with engine.begin() as conn:
        for person in people:
            values = {
                "display_name": person.display_name or person.username,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": person.email,
                "department": person.department,
                "cost_centre": person.cost_centre,
                "manager_id": person.manager or None,
                "site": person.site,
                "language": person.language,
                "time_zone": person.time_zone,
                "role": person.role,
                "source": source,
                "updated_at": now,
            }
            exists = conn.execute(sa.select(users.c.id).where(users.c.id == person.username)).first()
            if exists:
                conn.execute(users.update().where(users.c.id == person.username).values(**values))
                result.updated += 1
            else:
                conn.execute(users.insert().values(id=person.username, created_at=now, active=True, **values))
                result.created += 1
            _assign(conn, person, source, person.valid_from or now, result)
    if lake is not None:
        publish_snapshot(engine, lake)
    return result


def _assign(conn: Connection, person: Person, source: str, when: datetime, result: ImportResult) -> None:
    """Make `person.extensions` the person's open assignments from `when` on."""
    ea = extension_assignment
    open_rows = conn.execute(
        sa.select(ea.c.id, ea.c.extension, ea.c.user_id).where(
            ea.c.valid_to.is_(None),
            sa.or_(ea.c.user_id == person.username, ea.c.extension.in_(person.extensions)),
        )
    ).all()
    held = {r.extension for r in open_rows if r.user_id == person.username}
    for row in open_rows:
        mine = row.user_id == person.username
        if (mine and row.extension not in person.extensions) or (not mine and row.extension in person.extensions):
            conn.execute(ea.update().where(ea.c.id == row.id).values(valid_to=when))
            result.extensions_closed += 1
    for ext in person.extensions:
        if ext not in held:
            first = conn.execute(sa.select(sa.func.count()).select_from(ea).where(ea.c.extension == ext)).scalar()
            conn.execute(
                ea.insert().values(
                    extension=ext,
                    user_id=person.username,
                    # the first owner of an extension is taken to have had it all along
                    valid_from=None if first == 0 and person.valid_from is None else when,
                    valid_to=None,
                    source=source,
                )
            )
            result.extensions_assigned += 1


def publish_snapshot(engine: Engine, lake: Lake) -> None:
    """Write the users and extension assignments to the lake, where the `calls` view joins them."""
    with engine.connect() as conn:
        people = conn.execute(sa.select(users)).mappings().all()
        assignments = conn.execute(sa.select(extension_assignment)).mappings().all()
    users_table = pa.Table.from_pylist(
        [
            {
                "user_id": p["id"],
                "user_name": p["display_name"] or p["id"],
                "first_name": p["first_name"],
                "last_name": p["last_name"],
                "email": p["email"],
                "department": p["department"],
                "cost_centre": p["cost_centre"],
                "manager_id": p["manager_id"],
                "site": p["site"],
                "language": p["language"],
                "time_zone": p["time_zone"],
                "role": p["role"],
                "active": p["active"],
            }
            for p in people
        ],
        schema=DIRECTORY_SCHEMAS["users"],
    )
    ext_table = pa.Table.from_pylist(
        [
            {
                "extension": a["extension"],
                "user_id": a["user_id"],
                "valid_from": a["valid_from"],
                "valid_to": a["valid_to"],
            }
            for a in assignments
        ],
        schema=DIRECTORY_SCHEMAS["extensions"],
    )
    with lake.writer() as writer:
        stage = lake.staging_dir(f"directory-{uuid.uuid4().hex[:8]}")
        files = []
        for name, table in (("users", users_table), ("extensions", ext_table)):
            path = stage / f"{name}-{uuid.uuid4().hex[:12]}.parquet"
            pq.write_table(table, path)
            files.append(path)
        writer.publish("directory", replace={"": files})
