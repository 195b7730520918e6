"""Administering people: accounts, roles, scopes, passwords, extensions; every change audited.

These are the functions the administrator's pages and the `ringledger users` commands call, so a page
stays a thin form over them. `actor` is who makes the change (a user name, or `cli:<system user>`).
Changes that touch the directory (extensions, departments) republish the lake's directory snapshot
when a lake is given, so the `calls` view shows them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.access import ROLES, account_block, hash_secret, supervisor_scope
from warehouse.appdb import extension_assignment, users, utcnow
from warehouse.audit import (
    LOGIN_UNLOCKED,
    USER_ACTIVE,
    USER_CREATED,
    USER_EXTENSION,
    USER_PASSWORD,
    USER_ROLE,
    USER_SCOPE,
    audit,
)
from warehouse.directory import ImportResult, Person, apply_people, publish_snapshot
from warehouse.lake import Lake

MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """An administrative change cannot be made; the message says why."""


@dataclass(frozen=True)
class UserRow:
    """A person as the administrator's user list shows them."""

    username: str
    display_name: str
    email: str
    role: str
    source: str
    active: bool
    department: str
    cost_centre: str
    manager: str
    site: str
    extensions: tuple[str, ...]
    scopes: tuple[tuple[str, str, str], ...]  # (kind, value, source)
    has_password: bool


def _require(conn, username: str):
    row = conn.execute(sa.select(users).where(users.c.id == username)).mappings().first()
    if row is None:
        raise AccountError(f"no user {username!r}")
    return row


def check_password(password: str) -> None:
    """Refuse a password too weak to set (raises AccountError)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def create_user(
    engine: Engine,
    actor: str,
    username: str,
    *,
    role: str = "user",
    display_name: str = "",
    email: str = "",
    department: str = "",
    cost_centre: str = "",
    manager: str = "",
    extensions: list[str] | None = None,
    password: str | None = None,
    lake: Lake | None = None,
) -> ImportResult:
    """Create a local account (it signs in with its Ringledger password)."""
    username = (username or "").strip()
    if not username or len(username) > 128 or any(ch.isspace() for ch in username):
        raise AccountError("a user name is one word of at most 128 characters")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    exts = [e.strip() for e in (extensions or []) if e.strip()]
    for ext in exts:
        if not ext.replace("+", "").isalnum():
            raise AccountError(f"extension {ext!r} is not a directory number")
    if password is not None:
        check_password(password)
    result = ImportResult()
    with engine.begin() as conn:
        clash = conn.execute(sa.select(users.c.id).where(sa.func.lower(users.c.id) == username.lower())).first()
        if clash is not None:
            raise AccountError(f"user {clash.id!r} already exists")
        person = Person(
            username=username,
            display_name=display_name or username,
            email=email,
            department=department,
            cost_centre=cost_centre,
            manager=manager,
            role=role,
            extensions=exts,
        )
        apply_people(conn, [person], "local", utcnow(), result)
        if password is not None:
            conn.execute(users.update().where(users.c.id == username).values(password_hash=hash_secret(password)))
        audit(
            conn,
            actor,
            USER_CREATED,
            username,
            {"role": role, "extensions": exts, "password": password is not None},
        )
    if lake is not None:
        publish_snapshot(engine, lake)
    return result


def set_role(engine: Engine, actor: str, username: str, role: str) -> None:
    """Give a person a role (a directory sync with role groups may set it again)."""
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    with engine.begin() as conn:
        row = _require(conn, username)
        if row["role"] == role:
            return
        conn.execute(users.update().where(users.c.id == username).values(role=role, updated_at=utcnow()))
        audit(conn, actor, USER_ROLE, username, {"from": row["role"], "to": role})


def set_scopes(engine: Engine, actor: str, username: str, *, departments: list[str], cost_centres: list[str]) -> None:
    """Replace the departments and cost centres an administrator gave this supervisor (group-given ones stay)."""
    wanted = {("department", d.strip()) for d in departments if d.strip()} | {
        ("cost_centre", c.strip()) for c in cost_centres if c.strip()
    }
    with engine.begin() as conn:
        _require(conn, username)
        before = {
            (r.kind, r.value)
            for r in conn.execute(
                sa.select(supervisor_scope.c.kind, supervisor_scope.c.value).where(
                    supervisor_scope.c.user_id == username, supervisor_scope.c.source == "admin"
                )
            ).all()
        }
        if before == wanted:
            return
        conn.execute(
            supervisor_scope.delete().where(
                supervisor_scope.c.user_id == username, supervisor_scope.c.source == "admin"
            )
        )
        now = utcnow()
        for kind, value in sorted(wanted):
            conn.execute(
                supervisor_scope.insert().values(
                    user_id=username, kind=kind, value=value, source="admin", created_at=now
                )
            )
        audit(
            conn,
            actor,
            USER_SCOPE,
            username,
            {
                "added": sorted(f"{k}:{v}" for k, v in wanted - before),
                "removed": sorted(f"{k}:{v}" for k, v in before - wanted),
            },
        )


def reset_password(engine: Engine, actor: str, username: str, password: str) -> None:
    """Set a local account's password (directory users change theirs in the directory).

    A reset by someone else ends the person's sessions and lifts a log-in lock.
    """
    check_password(password)
    with engine.begin() as conn:
        row = _require(conn, username)
        if row["source"] == "ldap":
            raise AccountError(f"{username} signs in with the directory password; change it in the directory")
        conn.execute(
            users.update()
            .where(users.c.id == username)
            .values(password_hash=hash_secret(password), updated_at=utcnow())
        )
        audit(conn, actor, USER_PASSWORD, username, {"self": actor == username})
    from warehouse.auth import clear_failures, end_sessions_of

    clear_failures(engine, username)
    if actor != username:
        # a password reset by an administrator signs the person out everywhere
        end_sessions_of(engine, username)


def set_active(engine: Engine, actor: str, username: str, active: bool, lake: Lake | None = None) -> None:
    """Switch an account off (it cannot sign in, its sessions end; its calls stay its own) or on again.

    A directory sync does not switch on an account an administrator switched off.
    """
    from warehouse.auth import end_sessions_of

    now = utcnow()
    with engine.begin() as conn:
        row = _require(conn, username)
        blocked = conn.execute(sa.select(account_block.c.user_id).where(account_block.c.user_id == username)).first()
        if bool(row["active"]) == active and (blocked is None) == active:
            return
        if active:
            conn.execute(account_block.delete().where(account_block.c.user_id == username))
        elif blocked is None:
            conn.execute(account_block.insert().values(user_id=username, blocked_at=now, blocked_by=actor[:128]))
        conn.execute(users.update().where(users.c.id == username).values(active=active, updated_at=now))
        audit(conn, actor, USER_ACTIVE, username, {"active": active})
    if not active:
        end_sessions_of(engine, username)
    if lake is not None:
        publish_snapshot(engine, lake)


def unlock_login(engine: Engine, actor: str, username: str) -> bool:
    """Lift the log-in lock of a user name (and forget its failures); whether it was locked."""
    from warehouse.auth import clear_failures, locked_until

    was_locked = locked_until(engine, username) is not None
    clear_failures(engine, username)
    audit(engine, actor, LOGIN_UNLOCKED, username.strip().lower(), {"was_locked": was_locked})
    return was_locked


def assign_extension(
    engine: Engine,
    actor: str,
    username: str,
    extension: str,
    *,
    valid_from: datetime | None = None,
    lake: Lake | None = None,
) -> None:
    """Give a person an extension (besides the ones they have), from `valid_from` or since always.

    An extension nobody ever had is theirs for every call so far when `valid_from` is None (the
    one-click fix for an unknown extension); one that belonged to someone else moves at `valid_from`,
    default now, closing the previous owner's assignment.
    """
    extension = (extension or "").strip()
    if not extension.replace("+", "").isalnum():
        raise AccountError(f"extension {extension!r} is not a directory number")
    ea = extension_assignment
    with engine.begin() as conn:
        _require(conn, username)
        history = conn.execute(sa.select(ea).where(ea.c.extension == extension)).mappings().all()
        if any(h["user_id"] == username and h["valid_to"] is None for h in history):
            raise AccountError(f"{username} already has extension {extension}")
        start = valid_from if valid_from is not None else (None if not history else utcnow())
        if start is not None:
            later = [h for h in history if h["valid_from"] is not None and h["valid_from"] > start]
            if later:
                raise AccountError(f"extension {extension} has an assignment starting after {start.isoformat()}")
        previous = []
        for h in history:
            if h["valid_to"] is None:
                end = start if start is not None else utcnow()
                conn.execute(ea.update().where(ea.c.id == h["id"]).values(valid_to=end))
                previous.append(h["user_id"])
        conn.execute(
            ea.insert().values(extension=extension, user_id=username, valid_from=start, valid_to=None, source="local")
        )
        audit(
            conn,
            actor,
            USER_EXTENSION,
            username,
            {
                "extension": extension,
                "from": start.isoformat() if start else "always",
                "previous_owner": ", ".join(previous),
            },
        )
    if lake is not None:
        publish_snapshot(engine, lake)


def remove_extension(engine: Engine, actor: str, username: str, extension: str, lake: Lake | None = None) -> None:
    """End a person's assignment of an extension now (their earlier calls stay theirs)."""
    ea = extension_assignment
    with engine.begin() as conn:
        done = conn.execute(
            ea.update()
            .where(ea.c.user_id == username, ea.c.extension == extension, ea.c.valid_to.is_(None))
            .values(valid_to=utcnow())
        ).rowcount
        if not done:
            raise AccountError(f"{username} does not have extension {extension}")
        audit(conn, actor, USER_EXTENSION, username, {"extension": extension, "removed": True})
    if lake is not None:
        publish_snapshot(engine, lake)


def list_users(
    engine: Engine,
    *,
    search: str = "",
    role: str | None = None,
    active: bool | None = None,
    department: str | None = None,
    cost_centre: str | None = None,
    site: str | None = None,
    source: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> tuple[list[UserRow], int]:
    """People for the administrator's list (search in name, user name, e-mail, department; exact filters on
    role, active, department, cost centre, site and source); and the total."""
    conds = []
    if search:
        needle = search.lower()
        conds.append(
            sa.or_(
                *(
                    sa.func.lower(col).contains(needle, autoescape=True)
                    for col in (
                        users.c.id,
                        users.c.display_name,
                        users.c.email,
                        users.c.department,
                        users.c.cost_centre,
                    )
                )
            )
        )
    if role:
        conds.append(users.c.role == role)
    if active is not None:
        conds.append(users.c.active.is_(active))
    for column, value in (
        (users.c.department, department),
        (users.c.cost_centre, cost_centre),
        (users.c.site, site),
        (users.c.source, source),
    ):
        if value is not None:
            conds.append(column == value)
    where = sa.and_(sa.true(), *conds)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(users).where(where)).scalar_one()
        rows = (
            conn.execute(sa.select(users).where(where).order_by(users.c.id).offset(offset).limit(limit))
            .mappings()
            .all()
        )
        ids = [r["id"] for r in rows]
        exts: dict[str, list[str]] = {}
        for r in conn.execute(
            sa.select(extension_assignment.c.user_id, extension_assignment.c.extension)
            .where(extension_assignment.c.user_id.in_(ids), extension_assignment.c.valid_to.is_(None))
            .order_by(extension_assignment.c.extension)
        ).all():
            exts.setdefault(r[0], []).append(r[1])
        scopes: dict[str, list[tuple[str, str, str]]] = {}
        for s in conn.execute(
            sa.select(
                supervisor_scope.c.user_id, supervisor_scope.c.kind, supervisor_scope.c.value, supervisor_scope.c.source
            )
            .where(supervisor_scope.c.user_id.in_(ids))
            .order_by(supervisor_scope.c.kind, supervisor_scope.c.value)
        ).all():
            scopes.setdefault(s.user_id, []).append((s.kind, s.value, s.source))
    out = [
        UserRow(
            username=r["id"],
            display_name=r["display_name"],
            email=r["email"],
            role=r["role"],
            source=r["source"],
            active=bool(r["active"]),
            department=r["department"],
            cost_centre=r["cost_centre"],
            manager=r["manager_id"] or "",
            site=r["site"],
            extensions=tuple(exts.get(r["id"], [])),
            scopes=tuple(scopes.get(r["id"], [])),
            has_password=bool(r["password_hash"]),
        )
        for r in rows
    ]
    return out, int(total)


def directory_values(engine: Engine) -> dict[str, list[str]]:
    """The departments, cost centres, sites and sources people have, for the administrator's filters."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name, column in (
            ("department", users.c.department),
            ("cost_centre", users.c.cost_centre),
            ("site", users.c.site),
            ("source", users.c.source),
        ):
            out[name] = [v for (v,) in conn.execute(sa.select(column).distinct().order_by(column)) if v]
    return out
