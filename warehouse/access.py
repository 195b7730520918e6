"""Who may see what: the person behind a request, and the one scoping function for calls.

Every query made for a person goes through `scope_filter()`, which turns the person's rights into
a SQL condition with bind parameters on the `calls` view:
- user: the calls of the extensions assigned to them, for the time each was theirs;
- supervisor: the calls of the departments and cost centres given to them (or that they manage);
- administrator: every call.
Pages, exports, mail, gadgets, the API and the phone service never read `calls` without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import extension_assignment, users

ROLES = ("user", "supervisor", "administrator")


@dataclass(frozen=True)
class Assignment:
    """An extension and the time it was the person's ([valid_from, valid_to), None = open)."""

    extension: str
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True)
class Principal:
    """A signed-in person and the rights the query layer enforces for them."""

    user_id: str
    role: str = "user"
    display_name: str = ""
    language: str = "en"
    time_zone: str = "UTC"
    assignments: tuple[Assignment, ...] = ()
    departments: tuple[str, ...] = ()
    cost_centres: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "administrator"

    @property
    def extensions(self) -> tuple[str, ...]:
        """Extensions assigned to the person now."""
        return tuple(a.extension for a in self.assignments if a.valid_to is None)


@dataclass(frozen=True)
class ScopeFilter:
    """A SQL condition on the `calls` view (alias `c` by default) and its bind parameters."""

    sql: str
    params: list = field(default_factory=list)

    def where(self, alias: str = "c") -> str:
        """The condition with column names qualified by `alias`."""
        return self.sql.replace("{a}.", f"{alias}." if alias else "")


DENY = ScopeFilter("false")


def scope_filter(principal: Principal) -> ScopeFilter:
    """The condition that limits `calls` to what this person may see (never empty for a non-admin)."""
    if principal.is_admin:
        return ScopeFilter("true")
    parts: list[str] = []
    params: list = []
    for a in principal.assignments:
        cond = ["{a}.extension = ?"]
        params.append(a.extension)
        if a.valid_from is not None:
            cond.append("{a}.started_at >= ?")
            params.append(a.valid_from)
        if a.valid_to is not None:
            cond.append("{a}.started_at < ?")
            params.append(a.valid_to)
        parts.append("(" + " AND ".join(cond) + ")")
    if principal.role == "supervisor":
        if principal.departments:
            parts.append("{a}.department IN (" + ", ".join("?" * len(principal.departments)) + ")")
            params.extend(principal.departments)
        if principal.cost_centres:
            parts.append("{a}.cost_centre IN (" + ", ".join("?" * len(principal.cost_centres)) + ")")
            params.extend(principal.cost_centres)
    if not parts:
        return DENY
    return ScopeFilter("(" + " OR ".join(parts) + ")", params)


def load_principal(engine: Engine, user_id: str, *, extra_departments: Sequence[str] = ()) -> Principal | None:
    """The principal of an active directory user, with assignments and supervised groups, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id, users.c.active.is_(True))).mappings().first()
        if row is None:
            return None
        assignments = tuple(
            Assignment(r.extension, r.valid_from, r.valid_to)
            for r in conn.execute(
                sa.select(extension_assignment).where(extension_assignment.c.user_id == user_id)
            ).all()
        )
        departments: list[str] = list(extra_departments)
        cost_centres: list[str] = []
        if row["role"] == "supervisor":
            # a supervisor sees the departments and cost centres of the people who report to them
            managed = conn.execute(
                sa.select(users.c.department, users.c.cost_centre).where(users.c.manager_id == user_id)
            ).all()
            departments += sorted({d for d, _ in managed if d})
            cost_centres += sorted({c for _, c in managed if c})
    return Principal(
        user_id=row["id"],
        role=row["role"],
        display_name=row["display_name"] or row["id"],
        language=row["language"] or "en",
        time_zone=row["time_zone"] or "UTC",
        assignments=assignments,
        departments=tuple(dict.fromkeys(departments)),
        cost_centres=tuple(dict.fromkeys(cost_centres)),
    )


# --- passwords and local accounts --------------------------------------------------------------

_hasher = None


def _argon():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def hash_secret(secret: str) -> str:
    """A salted slow hash (Argon2id) of a password or PIN, for storage."""
    return _argon().hash(secret)


def verify_secret(stored: str | None, secret: str) -> bool:
    """True when `secret` matches the stored hash; never raises on a wrong or empty secret."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored or not secret:
        return False
    try:
        return _argon().verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def set_password(engine: Engine, user_id: str, password: str) -> None:
    """Give a local account a new password."""
    from warehouse.appdb import utcnow

    with engine.begin() as conn:
        done = conn.execute(
            users.update().where(users.c.id == user_id).values(password_hash=hash_secret(password), updated_at=utcnow())
        ).rowcount
    if not done:
        raise ValueError(f"no user {user_id!r} in the directory")


def authenticate_local(engine: Engine, user_id: str, password: str) -> Principal | None:
    """The principal of an active local account whose password matches, else None."""
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(users.c.password_hash).where(users.c.id == user_id, users.c.active.is_(True))
        ).scalar()
    if not verify_secret(stored, password):
        return None
    return load_principal(engine, user_id)


# --- privacy -----------------------------------------------------------------------------------


def mask_digits(settings, role: str) -> int:
    """How many trailing digits of an external number this role does not see."""
    return int(settings.privacy.mask_digits.get(role, max(settings.privacy.mask_digits.values(), default=0)))


def mask_number(number: str | None, hidden: int) -> str | None:
    """The number with its last `hidden` digits replaced by '*' (non-digits are kept as they are)."""
    if not number or hidden <= 0:
        return number
    chars = list(number)
    remaining = hidden
    for i in range(len(chars) - 1, -1, -1):
        if remaining == 0:
            break
        if chars[i].isdigit():
            chars[i] = "*"
            remaining -= 1
    return "".join(chars)
