"""The directory: users and who had which extension when, in the app database, with a lake snapshot.

Calls get their user, department and cost centre when they are read, by joining the extension
assignment that covers the call's start, so a change of owner or department needs no rebuild.
The snapshot in `lake/directory` is what DuckDB joins; it is rewritten after every change.

People come from a CSV file (`read_csv`), from LDAP / Active Directory (`warehouse.ldap_directory`)
or are created one by one (`warehouse.accounts`); every source goes through `apply()`. Each import or
sync leaves a row in `directory_sync` (time, counts, warnings, error) for the administrator's page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse.appdb import UtcDateTime, extension_assignment, metadata, users, utcnow
from warehouse.lake import Lake
from warehouse.views import DIRECTORY_SCHEMAS

# One row per import or sync, newest last: what the administrator's sync status shows.
directory_sync = sa.Table(
    "directory_sync",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(16), nullable=False),  # ldap | csv
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # ok | warnings | failed
    sa.Column("people", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deactivated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reactivated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("extensions_opened", sa.Integer, nullable=False, server_default="0"),
    sa.Column("extensions_closed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),  # JSON list of messages
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_directory_sync_started", "started_at"),
)

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
    """What an import or sync changed (`updated` counts only people whose data really changed)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    reactivated: int = 0
    extensions_assigned: int = 0
    extensions_closed: int = 0
    # user name -> (old role, new role), for the audit log
    role_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_csv(path: Path) -> list[Person]:
    """Read a directory CSV (see CSV_COLUMNS; extensions separated by ';'); any bad line raises."""
    people, errors = read_csv_checked(path)
    if errors:
        raise DirectoryError("\n".join(errors))
    return people


def read_csv_checked(path: Path) -> tuple[list[Person], list[str]]:
    """Read a directory CSV: the good lines as people, and one message (file, line, field) per bad line.

    A wrong header is an error for the whole file (raises DirectoryError).
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DirectoryError(f"{path}: byte {exc.start}: the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"username"} - set(reader.fieldnames or [])
    if missing:
        raise DirectoryError(f"{path}: line 1: the header has no 'username' column")
    unknown = set(reader.fieldnames or []) - set(CSV_COLUMNS)
    if unknown:
        raise DirectoryError(f"{path}: line 1: unknown column(s) {', '.join(sorted(unknown))}")
    people: list[Person] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            person = _person_from_row(row, line, seen)
        except DirectoryError as exc:
            errors.append(f"{path}: line {line}: {exc}")
            continue
        seen[person.username.lower()] = line
        people.append(person)
    return people, errors


def _person_from_row(row: dict, line: int, seen: dict[str, int]) -> Person:
    """One CSV line as a Person; DirectoryError names the field that is wrong."""
    if None in row:
        raise DirectoryError(f"{len(row[None]) + len(row) - 1} values for {len(row) - 1} columns")

    def value(name: str) -> str:
        return (row.get(name) or "").strip()

    username = value("username")
    if not username:
        raise DirectoryError("username is empty")
    if len(username) > 128 or any(ch.isspace() for ch in username):
        raise DirectoryError(f"username {username!r} must be one word of at most 128 characters")
    if username.lower() in seen:
        raise DirectoryError(f"username {username!r} already appears on line {seen[username.lower()]}")
    role = value("role") or "user"
    if role not in ROLES:
        raise DirectoryError(f"role {role!r} is not one of {', '.join(ROLES)}")
    zone = value("time_zone")
    if zone:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise DirectoryError(f"time_zone {zone!r} is not a known time zone") from None
    exts = [e.strip() for e in value("extensions").replace(",", ";").split(";") if e.strip()]
    for ext in exts:
        if not ext.replace("+", "").isalnum():
            raise DirectoryError(f"extension {ext!r} is not a directory number")
    valid_from = None
    if value("valid_from"):
        try:
            valid_from = datetime.fromisoformat(value("valid_from"))
        except ValueError:
            raise DirectoryError(f"valid_from {value('valid_from')!r} is not an ISO date or time") from None
        if valid_from.tzinfo is None:
            valid_from = valid_from.replace(tzinfo=UTC)
    return Person(
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


# Columns of `users` that a directory source owns (compared to tell an update from no change).
_PERSON_COLUMNS = (
    "display_name",
    "first_name",
    "last_name",
    "email",
    "department",
    "cost_centre",
    "manager_id",
    "site",
    "language",
    "time_zone",
    "role",
    "source",
)


def apply(
    engine: Engine,
    people: list[Person],
    source: str,
    lake: Lake | None = None,
    *,
    when: datetime | None = None,
) -> ImportResult:
    """Create or update these people and their extensions; publish the directory snapshot.

    Extension changes take effect at `when` (default now): an extension that moves to another person
    is closed for the old owner and opened for the new one at that time.
    """
    result = ImportResult()
    with engine.begin() as conn:
        apply_people(conn, people, source, when or utcnow(), result)
    if lake is not None:
        publish_snapshot(engine, lake)
    return result


def apply_people(conn: Connection, people: list[Person], source: str, when: datetime, result: ImportResult) -> None:
    """The body of `apply()` on an open transaction (a sync adds its own steps around it)."""
    now = utcnow()
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
        }
        existing = conn.execute(sa.select(users).where(users.c.id == person.username)).mappings().first()
        if existing is not None:
            changed = {k for k in _PERSON_COLUMNS if (existing[k] or None) != (values[k] or None)}
            if changed:
                conn.execute(users.update().where(users.c.id == person.username).values(updated_at=now, **values))
                result.updated += 1
                if "role" in changed:
                    result.role_changes[person.username] = (existing["role"], person.role)
            else:
                result.unchanged += 1
        else:
            conn.execute(
                users.insert().values(id=person.username, created_at=now, updated_at=now, active=True, **values)
            )
            result.created += 1
        _assign(conn, person, source, person.valid_from or when, result)


def _assign(conn: Connection, person: Person, source: str, when: datetime, result: ImportResult) -> None:
    """Make `person.extensions` the person's open assignments from `when` on."""
    ea = extension_assignment
    open_rows = conn.execute(
        sa.select(ea.c.id, ea.c.extension, ea.c.user_id, ea.c.valid_from).where(
            ea.c.valid_to.is_(None),
            sa.or_(ea.c.user_id == person.username, ea.c.extension.in_(person.extensions)),
        )
    ).all()
    held = {r.extension for r in open_rows if r.user_id == person.username}
    for row in open_rows:
        mine = row.user_id == person.username
        if (mine and row.extension not in person.extensions) or (not mine and row.extension in person.extensions):
            # an assignment that starts after `when` never was in force: it ends where it starts
            end = when if row.valid_from is None or row.valid_from <= when else row.valid_from
            conn.execute(ea.update().where(ea.c.id == row.id).values(valid_to=end))
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


def close_assignments(conn: Connection, user_id: str, when: datetime) -> int:
    """End every open extension assignment of a person at `when` (someone who left); how many."""
    ea = extension_assignment
    rows = conn.execute(
        sa.select(ea.c.id, ea.c.valid_from).where(ea.c.user_id == user_id, ea.c.valid_to.is_(None))
    ).all()
    for row in rows:
        end = when if row.valid_from is None or row.valid_from <= when else row.valid_from
        conn.execute(ea.update().where(ea.c.id == row.id).values(valid_to=end))
    return len(rows)


def import_csv(
    engine: Engine, path: Path, actor: str, lake: Lake | None = None, *, name: str = ""
) -> tuple[ImportResult, int, list[str]]:
    """Import a directory CSV: the good lines are applied, the bad ones returned (file, line, field).

    The outcome is recorded for the sync status and written to the audit log as `name` (default: the
    file's name). A wrong header imports nothing: it is recorded, then DirectoryError is raised.
    """
    from warehouse.audit import DIRECTORY_IMPORT, audit

    started = utcnow()
    try:
        people, errors = read_csv_checked(path)
    except DirectoryError as exc:
        message = str(exc).replace(str(path), name) if name else str(exc)
        record_sync(engine, "csv", started, None, error=message)
        raise DirectoryError(message) from None
    if name:
        # messages name the file as the administrator knows it, not where it was kept meanwhile
        errors = [e.replace(str(path), name, 1) for e in errors]
    result = apply(engine, people, source="csv", lake=lake)
    result.warnings.extend(errors)
    record_sync(engine, "csv", started, result, people=len(people))
    audit(
        engine,
        actor,
        DIRECTORY_IMPORT,
        name or path.name,
        {"people": len(people), "created": result.created, "updated": result.updated, "bad_lines": len(errors)},
    )
    return result, len(people), errors


# --- phone attributes to extensions ------------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s\-./()\u00a0]")


def phone_to_extension(settings, value: str) -> str | None:
    """The extension a directory phone value stands for, or None (see README, "Directory").

    Spaces, dashes, dots, slashes and brackets are removed first. Then:
    - a value that lies in a site's internal range is that extension;
    - a full number in international form (+CC... or 00CC...) whose country code is a site's country
      gives its last N digits when they lie in one of that site's internal ranges of N digits
      (sites are tried in the order configured);
    - with no internal ranges configured anywhere, a value of 2 to 7 digits is taken as it is
      (the rule the calls model uses for internal numbers);
    - anything else (national-format numbers, mobiles outside the ranges, text) is not an extension.
    """
    import phonenumbers

    compact = _PHONE_PUNCTUATION.sub("", value or "")
    if compact.startswith("\\+"):  # CUCM writes an escaped plus
        compact = compact[1:]
    if not compact:
        return None
    ranged = [(site, r) for site in settings.sites for r in site.ranges]
    if not ranged:
        return compact if re.fullmatch(r"[0-9]{2,7}", compact) else None
    if compact.isdigit() and any(r.contains(compact) for _, r in ranged):
        return compact
    digits = None
    if compact.startswith("+") and compact[1:].isdigit():
        digits = compact[1:]
    elif compact.startswith("00") and compact.isdigit():
        digits = compact[2:]
    if digits is None:
        return None
    for site in settings.sites:
        code = str(phonenumbers.country_code_for_region(site.country))
        if not digits.startswith(code):
            continue
        for r in site.ranges:
            tail = digits[-len(r.low) :]
            if len(digits) > len(code) + len(r.low) - 1 and r.contains(tail):
                return tail
    return None


# --- sync status -------------------------------------------------------------------------------


@dataclass
class SyncStatus:
    """One import or sync as the administrator's page shows it."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    people: int
    created: int
    updated: int
    unchanged: int
    deactivated: int
    reactivated: int
    extensions_opened: int
    extensions_closed: int
    warnings: list[str]
    error: str


def record_sync(
    engine: Engine,
    source: str,
    started_at: datetime,
    result: ImportResult | None,
    *,
    people: int = 0,
    error: str = "",
) -> int:
    """Store the outcome of an import or sync; its id."""
    result = result or ImportResult()
    status = "failed" if error else ("warnings" if result.warnings else "ok")
    with engine.begin() as conn:
        inserted = conn.execute(
            directory_sync.insert().values(
                source=source,
                started_at=started_at,
                finished_at=utcnow(),
                status=status,
                people=people,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                deactivated=result.deactivated,
                reactivated=result.reactivated,
                extensions_opened=result.extensions_assigned,
                extensions_closed=result.extensions_closed,
                warnings=json.dumps(result.warnings, ensure_ascii=False),
                error=error,
            )
        ).inserted_primary_key
    return int(inserted[0]) if inserted else 0


def sync_history(engine: Engine, limit: int = 20, source: str | None = None) -> list[SyncStatus]:
    """The latest imports and syncs, newest first."""
    query = sa.select(directory_sync).order_by(directory_sync.c.started_at.desc(), directory_sync.c.id.desc())
    if source:
        query = query.where(directory_sync.c.source == source)
    with engine.connect() as conn:
        rows = conn.execute(query.limit(limit)).mappings().all()
    return [
        SyncStatus(
            id=r["id"],
            source=r["source"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            status=r["status"],
            people=r["people"],
            created=r["created"],
            updated=r["updated"],
            unchanged=r["unchanged"],
            deactivated=r["deactivated"],
            reactivated=r["reactivated"],
            extensions_opened=r["extensions_opened"],
            extensions_closed=r["extensions_closed"],
            warnings=list(json.loads(r["warnings"] or "[]")),
            error=r["error"],
        )
        for r in rows
    ]


def last_sync(engine: Engine, source: str | None = None) -> SyncStatus | None:
    """The latest import or sync (of one source), or None."""
    found = sync_history(engine, 1, source)
    return found[0] if found else None


# --- extensions nobody has ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnknownExtension:
    """An internal number seen in calls at a time no directory assignment covered it."""

    extension: str
    site: str
    first_seen: datetime
    last_seen: datetime
    calls: int
    devices: tuple[str, ...]


def unknown_extensions(
    settings, con=None, *, since: datetime | None = None, until: datetime | None = None
) -> list[UnknownExtension]:
    """Extensions that made or took calls while no directory user had them, busiest first.

    An extension counts when its call leg was a caller or callee inside the company and the number is
    in a site's internal range or was on a phone (the device inventory says phone, or the CUCM device
    name is a phone's, such as SEP... or CSF...). Feeds alarm L8 and the administrator's list.
    """
    import pyarrow as pa

    from warehouse.calls import ENDPOINT_PREFIXES, sql_text
    from warehouse.views import connect

    cur = con if con is not None else connect(settings)
    ranges = [(s.name, r.low, r.high, len(r.low)) for s in settings.sites for r in s.ranges]
    cur.register(
        "unknown_site_ranges",
        pa.table(
            {
                "site": pa.array([r[0] for r in ranges], pa.string()),
                "low": pa.array([r[1] for r in ranges], pa.string()),
                "high": pa.array([r[2] for r in ranges], pa.string()),
                "digits": pa.array([r[3] for r in ranges], pa.int64()),
            }
        ),
    )
    patterns = [d.device.lower() for d in settings.devices if d.kind == "phone"]
    patterns += [f"{p}*" for p in ENDPOINT_PREFIXES]
    cur.register("unknown_phone_patterns", pa.table({"pattern": pa.array(patterns, pa.string())}))
    try:
        rows = cur.execute(
            sql_text("unknown_extensions.sql"),
            {"since": since, "until": until},
        ).fetchall()
    finally:
        cur.unregister("unknown_site_ranges")
        cur.unregister("unknown_phone_patterns")
    return [
        UnknownExtension(
            extension=r[0],
            site=r[1] or "",
            first_seen=r[2],
            last_seen=r[3],
            calls=int(r[4]),
            devices=tuple(r[5] or ()),
        )
        for r in rows
    ]


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
