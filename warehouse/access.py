"""Who may see what: the person behind a request, the one scoping rule for calls, and number masking.

THE RULE. Every query made for a person reads `my_calls`, never `calls`:

    from warehouse.access import scoped_query
    cur = scoped_query(con, principal, "select count(*) from my_calls where started_at >= ?", [since])

`scoped_query()` / `scoped_sql()` put `with my_calls as (select * from calls as c where <scope>)` in
front of the query (merging with the query's own `with`, `?` or `$name` parameters alike) and refuse
a query that reads `calls`, `cdr`, `cmr`, `rejects`, the rollups, the offers or `gateway_load` directly.
`scoped_calls()` is the short form for "my calls where ...". Code that builds its own SQL on `calls`
uses `scope_filter()`, the same condition: `scope_filter(principal).where("c")` with its `params`.

What `scope_filter()` lets through, for the `calls` view (whose user, department and cost centre are
those of the person who had the extension when the call started):
- administrator: every call;
- user: the calls of the extensions assigned to them, for the time each was theirs;
- supervisor: their own calls, plus the calls of the departments and cost centres given to them
  explicitly (`supervisor_scope` rows, set by an administrator or from directory groups) or, when
  none are given, those of everyone below them in the directory's manager chain;
- anybody else, or a person with nothing assigned: nothing at all (the condition is `false`).

The raw views (`cdr`, `cmr`, `rejects`) and `daily_rollups` carry no owner and are for administrators'
tools only. External numbers shown to a person go through `mask_result()` (screens, exports, mail).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, extension_assignment, metadata, users

ROLES = ("user", "supervisor", "administrator")
SCOPE_KINDS = ("department", "cost_centre")

# Departments and cost centres a supervisor is given: by an administrator (source 'admin') or by
# membership of a directory group (source 'ldap', rewritten at every sync).
supervisor_scope = sa.Table(
    "supervisor_scope",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # department | cost_centre
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("source", sa.String(16), nullable=False, server_default="admin"),  # admin | ldap
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("user_id", "kind", "value", "source", name="uq_supervisor_scope"),
    sa.Index("ix_supervisor_scope_user", "user_id"),
)


# People an administrator switched off: a directory sync or a directory log-in does not switch them on.
account_block = sa.Table(
    "account_block",
    metadata,
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("blocked_at", UtcDateTime, nullable=False),
    sa.Column("blocked_by", sa.String(128), nullable=False),
)


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
    email: str = ""
    # "explicit" (supervisor_scope rows), "managed" (from the manager chain) or "" (not a supervisor)
    scope_source: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "administrator"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def extensions(self) -> tuple[str, ...]:
        """Extensions assigned to the person now."""
        return tuple(a.extension for a in self.assignments if a.valid_to is None)


@dataclass(frozen=True)
class ScopeFilter:
    """A SQL condition on the `calls` view (alias `c` by default) and its `?` bind parameters."""

    sql: str
    params: list = field(default_factory=list)

    def where(self, alias: str = "c") -> str:
        """The condition with column names qualified by `alias`."""
        return self.sql.replace("{a}.", f"{alias}." if alias else "")

    def named(self, alias: str = "c", prefix: str = "scope_") -> tuple[str, dict[str, Any]]:
        """The condition with `$name` parameters instead of `?`, for queries that use named parameters."""
        pieces = self.where(alias).split("?")
        if len(pieces) - 1 != len(self.params):
            raise ValueError("scope condition and parameters disagree")
        out = pieces[0]
        values: dict[str, Any] = {}
        for i, piece in enumerate(pieces[1:]):
            name = f"{prefix}{i}"
            out += f"${name}" + piece
            values[name] = self.params[i]
        return out, values


DENY = ScopeFilter("false")
ALLOW_ALL = ScopeFilter("true")


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def scope_filter(principal: Principal | None) -> ScopeFilter:
    """The condition that limits `calls` to what this person may see (`false` when nothing is theirs)."""
    if principal is None:
        return DENY
    if not isinstance(principal, Principal):
        raise TypeError(f"scope_filter needs a Principal, not {type(principal).__name__}")
    if principal.is_admin:
        return ALLOW_ALL
    parts: list[str] = []
    params: list = []
    for a in principal.assignments:
        if not a.extension:
            continue
        start, end = _utc(a.valid_from), _utc(a.valid_to)
        if start is not None and end is not None and end <= start:
            continue  # an assignment that never was in force
        cond = ["{a}.extension = ?"]
        params.append(a.extension)
        if start is not None:
            cond.append("{a}.started_at >= ?")
            params.append(start)
        if end is not None:
            cond.append("{a}.started_at < ?")
            params.append(end)
        parts.append("(" + " AND ".join(cond) + ")")
    if principal.is_supervisor:
        # an empty name would match every call of people without a department: never a scope
        departments = sorted({d for d in principal.departments if d and d.strip()})
        cost_centres = sorted({c for c in principal.cost_centres if c and c.strip()})
        if departments:
            parts.append("{a}.department IN (" + ", ".join("?" * len(departments)) + ")")
            params.extend(departments)
        if cost_centres:
            parts.append("{a}.cost_centre IN (" + ", ".join("?" * len(cost_centres)) + ")")
            params.extend(cost_centres)
    if not parts:
        return DENY
    return ScopeFilter("(" + " OR ".join(parts) + ")", params)


# --- the scoped query helpers ------------------------------------------------------------------

MY_CALLS = "my_calls"
# Views with call data and no owner, or the whole company's totals: a query made for a person never names them.
_UNSCOPED_VIEWS = (
    "calls",
    "calls_facts",
    "cdr",
    "cmr",
    "rejects",
    "daily_rollups",
    "quarter_hours",
    "offers",
    "offers_facts",
    "pilot_offers",
    "gateway_load",
)
_UNSCOPED = re.compile(
    r"""\b(?:from|join)\s+(?:(?:"?\w+"?)\s*\.\s*)*"?(?:""" + "|".join(_UNSCOPED_VIEWS) + r""")"?(?![\w"])""",
    re.IGNORECASE,
)
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_WITH = re.compile(r"with(?:\s+recursive)?\s", re.IGNORECASE)


def check_scoped(sql: str) -> None:
    """Refuse a query made for a person that reads call data without the scope (raises ValueError)."""
    found = _UNSCOPED.search(sql)
    if found:
        raise ValueError(
            f"a query made for a person must read {MY_CALLS}, not {found.group(0).split()[-1]!r} (see warehouse.access)"
        )


def my_calls_cte(principal: Principal | None) -> tuple[str, list]:
    """`my_calls as (select * from calls as c where <scope>)` and its `?` parameters."""
    f = scope_filter(principal)
    return f"{MY_CALLS} as (select * from calls as c where {f.where('c')})", list(f.params)


def scoped_sql(
    principal: Principal | None, sql: str, params: Sequence | Mapping[str, Any] | None = None
) -> tuple[str, list | dict[str, Any]]:
    """The query (which reads `my_calls`) with the person's `my_calls` in front, and all its parameters.

    `params` may be a list (for `?`) or a dict (for `$name`); the result uses the same style.
    """
    check_scoped(sql)
    body = _LEADING_COMMENTS.sub("", sql, count=1)
    if isinstance(params, Mapping):
        cond, scope_params = scope_filter(principal).named("c", prefix="_scope_")
        clash = set(scope_params) & set(params)
        if clash:
            raise ValueError(f"parameter names starting with _scope_ are reserved: {sorted(clash)}")
        cte = f"{MY_CALLS} as (select * from calls as c where {cond})"
        merged: list | dict[str, Any] = {**scope_params, **params}
    else:
        cte, positional = my_calls_cte(principal)
        merged = positional + list(params or [])
    m = _WITH.match(body)
    text = body[: m.end()] + cte + ",\n" + body[m.end() :] if m else f"with {cte}\n{body}"
    return text, merged


def scoped_query(con, principal: Principal | None, sql: str, params: Sequence | Mapping[str, Any] | None = None):
    """Run a query that reads `my_calls` for this person on a `warehouse.connect()` connection; the cursor."""
    text, merged = scoped_sql(principal, sql, params)
    return con.execute(text, merged)


def scoped_calls(
    con,
    principal: Principal | None,
    where: str = "",
    params: Sequence = (),
    *,
    order_by: str = "started_at desc",
    limit: int | None = None,
):
    """The person's calls (every column of `calls`), optionally filtered (`where` with `?` parameters)."""
    sql = f"select * from {MY_CALLS}"
    values = list(params)
    if where:
        sql += f" where {where}"
    if order_by:
        sql += f" order by {order_by}"
    if limit is not None:
        sql += " limit ?"
        values.append(int(limit))
    return scoped_query(con, principal, sql, values)


# --- loading a principal -----------------------------------------------------------------------


def managed_people(conn, user_id: str) -> list[str]:
    """Everyone below this person in the directory's manager chain (active users only)."""
    found: list[str] = []
    seen = {user_id}
    frontier = [user_id]
    while frontier:
        rows = conn.execute(
            sa.select(users.c.id).where(users.c.manager_id.in_(frontier), users.c.active.is_(True))
        ).all()
        frontier = [r.id for r in rows if r.id not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


def load_principal(engine: Engine, user_id: str, *, extra_departments: Sequence[str] = ()) -> Principal | None:
    """The principal of an active directory user, with assignments and supervised groups, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id, users.c.active.is_(True))).mappings().first()
        if row is None:
            return None
        assignments = tuple(
            Assignment(r.extension, r.valid_from, r.valid_to)
            for r in conn.execute(
                sa.select(extension_assignment)
                .where(extension_assignment.c.user_id == user_id)
                .order_by(extension_assignment.c.valid_from, extension_assignment.c.id)
            ).all()
        )
        departments: list[str] = list(extra_departments)
        cost_centres: list[str] = []
        scope_source = ""
        if row["role"] == "supervisor":
            explicit = conn.execute(
                sa.select(supervisor_scope.c.kind, supervisor_scope.c.value)
                .where(supervisor_scope.c.user_id == user_id)
                .order_by(supervisor_scope.c.kind, supervisor_scope.c.value)
            ).all()
            if explicit:
                scope_source = "explicit"
                departments += [v for k, v in explicit if k == "department"]
                cost_centres += [v for k, v in explicit if k == "cost_centre"]
            else:
                # no scope given: the departments and cost centres of everyone they manage
                scope_source = "managed"
                below = managed_people(conn, user_id)
                if below:
                    managed = conn.execute(
                        sa.select(users.c.department, users.c.cost_centre).where(users.c.id.in_(below))
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
        departments=tuple(dict.fromkeys(d for d in departments if d)),
        cost_centres=tuple(dict.fromkeys(c for c in cost_centres if c)),
        email=row["email"] or "",
        scope_source=scope_source,
    )


def supervisor_scopes(engine: Engine, user_id: str) -> dict[str, list[tuple[str, str]]]:
    """A person's explicit scopes: {'department': [(value, source)], 'cost_centre': [...]}."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(supervisor_scope.c.kind, supervisor_scope.c.value, supervisor_scope.c.source)
            .where(supervisor_scope.c.user_id == user_id)
            .order_by(supervisor_scope.c.kind, supervisor_scope.c.value)
        ).all()
    out: dict[str, list[tuple[str, str]]] = {k: [] for k in SCOPE_KINDS}
    for kind, value, source in rows:
        out.setdefault(kind, []).append((value, source))
    return out


# --- passwords and local accounts --------------------------------------------------------------

_hasher = None
_dummy_hash: str | None = None


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


def burn_verify(secret: str) -> None:
    """Spend the time of one password check, so an unknown user name answers as slowly as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_secret("not a password anyone has")
    verify_secret(_dummy_hash, secret or "x")


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
    if not stored:
        burn_verify(password)
        return None
    if not verify_secret(stored, password):
        return None
    return load_principal(engine, user_id)


# --- privacy -----------------------------------------------------------------------------------

# The number columns of `calls` (and of reports built on it) that may hold an outside party's number.
NUMBER_COLUMNS = (
    "other_number",
    "calling_number",
    "e164",
    "original_called_number",
    "final_called_number",
    "outpulsed_number",
)
_SHORT_INTERNAL = re.compile(r"[0-9]{2,7}")


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


def is_internal_number(settings, number: str | None) -> bool:
    """True for a company extension: inside a site's internal range (or, with no ranges set, 2-7 digits).

    The same rule the calls model uses to tell an internal party from an outside one.
    """
    if not number:
        return False
    ranges = [r for s in settings.sites for r in s.ranges]
    if ranges:
        return any(r.contains(number) for r in ranges)
    return bool(_SHORT_INTERNAL.fullmatch(number))


def _masker(settings, principal: Principal, hidden: int):
    own = {a.extension for a in principal.assignments}
    cache: dict[str, str | None] = {}

    def mask(value, internal_row: bool = False):
        if value is None or not isinstance(value, str) or internal_row:
            return value
        if value not in cache:
            keep = value in own or is_internal_number(settings, value)
            cache[value] = value if keep else mask_number(value, hidden)
        return cache[value]

    return mask


def _internal_rows(get) -> list[bool] | None:
    direction = get("direction")
    dest_type = get("destination_type")
    if direction is None and dest_type is None:
        return None
    n = len(direction if direction is not None else dest_type)
    return [
        (direction is not None and direction[i] == "internal") or (dest_type is not None and dest_type[i] == "internal")
        for i in range(n)
    ]


def mask_result(
    settings,
    principal: Principal,
    data,
    *,
    unmask: bool = False,
    engine: Engine | None = None,
    what: str = "",
    columns: Iterable[str] = NUMBER_COLUMNS,
):
    """A result set with outside numbers masked for this person; the same kind of object comes back.

    `data` is a pyarrow Table, a polars or pandas DataFrame, or a list of dicts. Every column named in
    `columns` is masked: the role's number of trailing digits (privacy.mask_digits) become '*', except
    for internal extensions (see `is_internal_number`; `other_number` of an internal call). An
    administrator may ask for `unmask=True`: full numbers, and an audit entry naming `what` was shown
    (the engine is then required). Screens, exports and mail all call this.
    """
    if principal is None:
        raise ValueError("numbers are shown only to a signed-in person")
    names = [c for c in columns]
    if unmask:
        if not principal.is_admin:
            raise PermissionError("only administrators may see full numbers")
        if engine is None:
            raise ValueError("showing full numbers is audited: pass the app database engine")
        from warehouse.audit import NUMBERS_UNMASKED, audit

        present = [c for c in names if c in _column_names(data)]
        audit(
            engine,
            principal.user_id,
            NUMBERS_UNMASKED,
            what or "unnamed view",
            {"rows": _row_count(data), "columns": present},
        )
        return data
    hidden = mask_digits(settings, principal.role)
    if hidden <= 0:
        return data
    mask = _masker(settings, principal, hidden)
    return _apply(data, names, mask)


def _column_names(data) -> list[str]:
    if isinstance(data, list):
        return sorted({k for row in data for k in row}) if data else []
    return list(getattr(data, "column_names", None) or getattr(data, "columns", []))


def _row_count(data) -> int:
    if isinstance(data, list):
        return len(data)
    num = getattr(data, "num_rows", None)
    if num is not None:
        return int(num)
    return len(data)


def _apply(data, names: list[str], mask):
    import pyarrow as pa

    if isinstance(data, pa.Table):
        present = [c for c in names if c in data.column_names]
        if not present:
            return data

        def get(col):
            return data.column(col).to_pylist() if col in data.column_names else None

        internal = _internal_rows(get)
        for col in present:
            values = data.column(col).to_pylist()
            flags = internal if (col == "other_number" and internal is not None) else [False] * len(values)
            masked = [mask(v, f) for v, f in zip(values, flags, strict=True)]
            idx = data.column_names.index(col)
            data = data.set_column(idx, data.field(idx), pa.array(masked, type=data.field(idx).type))
        return data
    if isinstance(data, list):
        out = []
        for row in data:
            new = dict(row)
            internal = row.get("direction") == "internal" or row.get("destination_type") == "internal"
            for col in names:
                if col in new:
                    new[col] = mask(new[col], internal and col == "other_number")
            out.append(new)
        return out
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        present = [c for c in names if c in data.columns]
        if not present:
            return data

        def pget(col):
            return data.get_column(col).to_list() if col in data.columns else None

        internal = _internal_rows(pget)
        updates = []
        for col in present:
            values = data.get_column(col).to_list()
            flags = internal if (col == "other_number" and internal is not None) else [False] * len(values)
            updates.append(pl.Series(col, [mask(v, f) for v, f in zip(values, flags, strict=True)], dtype=pl.String))
        return data.with_columns(updates)
    if module == "pandas":
        present = [c for c in names if c in data.columns]
        out = data.copy()

        def dget(col):
            return list(data[col]) if col in data.columns else None

        internal = _internal_rows(dget)
        for col in present:
            values = list(data[col])
            flags = internal if (col == "other_number" and internal is not None) else [False] * len(values)
            out[col] = [mask(v, f) for v, f in zip(values, flags, strict=True)]
        return out
    raise TypeError(f"cannot mask a {type(data).__name__}: give an Arrow table, a DataFrame or a list of dicts")
