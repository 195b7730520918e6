"""Phone lock: who locked which extension, PINs, and which phone is which extension.

An extension is locked when any of three holds, each kept on its own so one never undoes another:
- the user lock: the person locked their own phone (web, IP phone, gadget) and may unlock it;
- the ADMIN LOCK: an administrator (or the supervisor of the person's department) locked it; the
  person cannot undo it;
- a budget lock: a budget of the person (or of their department or cost centre) is spent; it goes
  when the next period starts or the budget grows.
Locked means no outgoing calls outside the company; emergency numbers always go through. Every change
is written to the audit log and handed to `warehouse.enforcement`, which puts it into effect on CUCM.

PINs are 4 digits (`[phone_lock] pin_length`), stored as Argon2id hashes; after `max_pin_failures`
wrong PINs in a row the PIN is refused for `pin_lockout_minutes`, even when right.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse import enforcement
from warehouse.access import Principal, hash_secret, scope_filter, verify_secret
from warehouse.appdb import UtcDateTime, audit_log, extension_assignment, metadata, users, utcnow

phone_lock = sa.Table(
    "phone_lock",
    metadata,
    sa.Column("extension", sa.String(64), primary_key=True),
    sa.Column("user_locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("user_locked_at", UtcDateTime),
    sa.Column("user_locked_by", sa.String(128)),
    sa.Column("admin_locked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("admin_locked_at", UtcDateTime),
    sa.Column("admin_locked_by", sa.String(128)),
    sa.Column("admin_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# One row per extension a spent budget holds locked (an extension may be held by several budgets).
budget_lock = sa.Table(
    "budget_lock",
    metadata,
    sa.Column("extension", sa.String(64), primary_key=True),
    sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("period_start", UtcDateTime, nullable=False),
    sa.Column("locked_at", UtcDateTime, nullable=False),
)

phone_pin = sa.Table(
    "phone_pin",
    metadata,
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("pin_hash", sa.String(255)),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime),
    sa.Column("changed_at", UtcDateTime),
    sa.Column("changed_by", sa.String(128)),
)

# Which CUCM device (SEP...) is which extension and owner, learnt from CDRs, AXL getPhone or by hand.
phone_device = sa.Table(
    "phone_device",
    metadata,
    sa.Column("device", sa.String(64), primary_key=True),
    sa.Column("extension", sa.String(64)),
    sa.Column("user_id", sa.String(128)),
    sa.Column("source", sa.String(8), nullable=False),  # cdr | axl | manual
    sa.Column("learnt_at", UtcDateTime, nullable=False),
    sa.Column("address", sa.String(64)),  # the phone's IP address, as last seen by the phone service
    sa.Column("model", sa.String(64)),
    sa.Column("seen_at", UtcDateTime),
)

DEVICE_NAME = re.compile(r"^SEP[0-9A-F]{12}$")
# Budgets see the calls of everyone they cover; the system acts with an administrator's scope.
SYSTEM = Principal(user_id="ringledger", role="administrator", display_name="Ringledger")


def audit(conn: Connection, actor: str, action: str, target: str = "", detail: str = "") -> None:
    """Write one audit-log row in the caller's transaction."""
    conn.execute(audit_log.insert().values(at=utcnow(), actor=actor, action=action, target=target, detail=detail))


@dataclass(frozen=True)
class LockState:
    """An extension's lock flags; `locked` is what CUCM is asked to enforce."""

    extension: str
    user_locked: bool = False
    admin_locked: bool = False
    budget_ids: tuple[int, ...] = ()
    admin_reason: str = ""
    admin_locked_by: str | None = None
    updated_at: datetime | None = None

    @property
    def budget_locked(self) -> bool:
        return bool(self.budget_ids)

    @property
    def locked(self) -> bool:
        return self.user_locked or self.admin_locked or self.budget_locked

    @property
    def status(self) -> str:
        """'unlocked', or the strongest reason: 'admin', 'budget' or 'user'."""
        if self.admin_locked:
            return "admin"
        if self.budget_locked:
            return "budget"
        if self.user_locked:
            return "user"
        return "unlocked"

    @property
    def user_can_unlock(self) -> bool:
        """True when the person's own unlock would unlock the phone."""
        return not self.admin_locked and not self.budget_locked


# --- reading ---------------------------------------------------------------------------------


def lock_states(engine: Engine | Connection, extensions: Iterable[str] | None = None) -> dict[str, LockState]:
    """The lock flags of these extensions (all locked or once-locked ones when None)."""
    wanted = None if extensions is None else list(dict.fromkeys(extensions))
    q_lock = sa.select(phone_lock)
    q_budget = sa.select(budget_lock.c.extension, budget_lock.c.budget_id)
    if wanted is not None:
        q_lock = q_lock.where(phone_lock.c.extension.in_(wanted))
        q_budget = q_budget.where(budget_lock.c.extension.in_(wanted))

    def read(conn: Connection) -> dict[str, LockState]:
        budgets: dict[str, list[int]] = {}
        for ext, bid in conn.execute(q_budget):
            budgets.setdefault(ext, []).append(bid)
        out: dict[str, LockState] = {}
        for r in conn.execute(q_lock):
            out[r.extension] = LockState(
                extension=r.extension,
                user_locked=r.user_locked,
                admin_locked=r.admin_locked,
                budget_ids=tuple(sorted(budgets.get(r.extension, []))),
                admin_reason=r.admin_reason,
                admin_locked_by=r.admin_locked_by,
                updated_at=r.updated_at,
            )
        for ext, bids in budgets.items():
            out.setdefault(ext, LockState(extension=ext, budget_ids=tuple(sorted(bids))))
        for ext in wanted or []:
            out.setdefault(ext, LockState(extension=ext))
        return out

    if isinstance(engine, Connection):
        return read(engine)
    with engine.connect() as conn:
        return read(conn)


def lock_state(engine: Engine, extension: str) -> LockState:
    """One extension's lock flags."""
    return lock_states(engine, [extension])[extension]


def locked_extensions(engine: Engine) -> frozenset[str]:
    """Every extension that is locked now, for any reason (the policy endpoint's cache)."""
    with engine.connect() as conn:
        flagged = conn.execute(
            sa.select(phone_lock.c.extension).where(sa.or_(phone_lock.c.user_locked, phone_lock.c.admin_locked))
        ).scalars()
        held = conn.execute(sa.select(budget_lock.c.extension).distinct()).scalars()
        return frozenset(flagged) | frozenset(held)


def current_extensions(conn: Connection, user_ids: Iterable[str]) -> dict[str, list[str]]:
    """The extensions assigned now to each of these people."""
    ids = list(dict.fromkeys(user_ids))
    out: dict[str, list[str]] = {u: [] for u in ids}
    if not ids:
        return out
    ea = extension_assignment
    for uid, ext in conn.execute(
        sa.select(ea.c.user_id, ea.c.extension)
        .where(ea.c.user_id.in_(ids), ea.c.valid_to.is_(None))
        .order_by(ea.c.user_id, ea.c.extension)
    ):
        out[uid].append(ext)
    return out


def language_of(settings, engine: Engine, user_id: str | None) -> str:
    """The language a person reads: their own, else their site's, else the company's."""
    row = None
    if user_id:
        with engine.connect() as conn:
            row = conn.execute(sa.select(users.c.language, users.c.site).where(users.c.id == user_id)).first()
    if row is not None and row.language:
        return row.language
    site = settings.site(row.site) if row is not None and row.site else None
    return site.language if site else settings.company.language


def owner_of(conn: Connection, extension: str) -> str | None:
    """The person the extension is assigned to now."""
    ea = extension_assignment
    return conn.execute(
        sa.select(ea.c.user_id).where(ea.c.extension == extension, ea.c.valid_to.is_(None)).limit(1)
    ).scalar()


# --- changing ------------------------------------------------------------------------------------


def enforce(settings, engine: Engine, extensions: Iterable[str]) -> dict[str, LockState]:
    """Hand the effective state of these extensions to the enforcement engine; returns the states."""
    states = lock_states(engine, extensions)
    if states:
        enforcement.apply(settings, engine, {ext: st.locked for ext, st in states.items()})
        _notify_cache()
        if settings.phone_service.push:
            push_notices(settings, engine, list(states))
    return states


def push_notices(settings, engine: Engine, extensions: list[str]) -> dict[str, str]:
    """Show the lock state on the phones of these extensions (CiscoIPPhoneExecute pushed to /CGI/Execute).

    Needs `[phone_service] push = true`, `public_url` (how phones reach this service) and a push user
    associated with the phones; a phone is pushed to at the address it last used the service from.
    Returns device -> "ok" or the error; a phone that cannot be reached changes nothing else.
    """
    from urllib.parse import urlencode

    from warehouse import ipphone

    cfg = settings.phone_service
    if not (cfg.push and cfg.public_url and cfg.push_user):
        return {}
    outcome: dict[str, str] = {}
    for dev in devices_of(engine, extensions):
        if not dev.address:
            continue
        url = f"{cfg.public_url.rstrip('/')}/phone/notice?{urlencode({'name': dev.device})}"
        try:
            ipphone.push(dev.address, ipphone.execute([(url, 1)]), cfg.push_user, cfg.push_password)
            outcome[dev.device] = "ok"
        except (ipphone.PushError, ValueError) as exc:
            outcome[dev.device] = str(exc)
    return outcome


def _notify_cache() -> None:
    # the policy endpoint of this process (if any) re-reads the lock states at once
    from warehouse import curri

    curri.invalidate_caches()


def _upsert(conn: Connection, extension: str, now: datetime, **values) -> None:
    done = conn.execute(
        phone_lock.update().where(phone_lock.c.extension == extension).values(updated_at=now, **values)
    ).rowcount
    if not done:
        conn.execute(phone_lock.insert().values(extension=extension, updated_at=now, **values))


def set_user_lock(
    settings, engine: Engine, principal: Principal, locked: bool, extensions: Iterable[str] | None = None
) -> dict[str, LockState]:
    """Lock or unlock the person's own extensions (all of them, or those given that are theirs)."""
    own = set(principal.extensions)
    chosen = list(own if extensions is None else extensions)
    foreign = [e for e in chosen if e not in own]
    if foreign:
        raise PermissionError(f"extension(s) {', '.join(foreign)} are not assigned to {principal.user_id}")
    if not chosen:
        raise ValueError(f"{principal.user_id} has no extension to lock")
    now = utcnow()
    with engine.begin() as conn:
        for ext in chosen:
            values = {"user_locked": locked, "user_locked_at": now, "user_locked_by": principal.user_id}
            _upsert(conn, ext, now, **values)
            audit(conn, principal.user_id, "phone.user_lock" if locked else "phone.user_unlock", ext)
    return enforce(settings, engine, chosen)


def _may_administer(conn: Connection, actor: Principal, extension: str) -> bool:
    if actor.is_admin:
        return True
    if actor.role != "supervisor":
        return False
    owner = owner_of(conn, extension)
    if owner is None:
        return False
    row = conn.execute(sa.select(users.c.department, users.c.cost_centre).where(users.c.id == owner)).first()
    return row is not None and (row.department in actor.departments or row.cost_centre in actor.cost_centres)


def set_admin_lock(
    settings, engine: Engine, actor: Principal, extension: str, locked: bool, reason: str = ""
) -> LockState:
    """Set or clear the ADMIN LOCK of an extension (administrators, or the supervisor of its owner)."""
    now = utcnow()
    with engine.begin() as conn:
        if not _may_administer(conn, actor, extension):
            raise PermissionError(f"{actor.user_id} may not lock or unlock extension {extension}")
        _upsert(
            conn,
            extension,
            now,
            admin_locked=locked,
            admin_locked_at=now,
            admin_locked_by=actor.user_id,
            admin_reason=reason.strip() if locked else "",
        )
        audit(conn, actor.user_id, "phone.admin_lock" if locked else "phone.admin_unlock", extension, reason.strip())
    return enforce(settings, engine, [extension])[extension]


# --- PINs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinResult:
    """The outcome of a PIN check or change.

    reason: 'ok', 'wrong', 'locked_out', 'no_pin', 'invalid' (not N digits), 'weak', 'mismatch'.
    """

    ok: bool
    reason: str
    remaining: int = 0  # wrong PINs left before the lockout
    locked_until: datetime | None = None


def pin_problem(settings, pin: str) -> str | None:
    """Why a new PIN is not acceptable ('invalid' or 'weak'), or None."""
    n = settings.phone_lock.pin_length
    if not isinstance(pin, str) or len(pin) != n or not pin.isdigit():
        return "invalid"
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:], strict=False)}
    if steps in ({0}, {1}, {-1}):
        return "weak"  # 0000, 1234, 9876
    return None


def set_pin(settings, engine: Engine, actor: Principal, user_id: str, pin: str) -> None:
    """Give a person a new PIN (themselves, or an administrator / their supervisor for them)."""
    problem = pin_problem(settings, pin)
    if problem:
        raise ValueError(
            f"a PIN is {settings.phone_lock.pin_length} digits, not a sequence or one digit repeated"
            if problem == "weak"
            else f"a PIN is exactly {settings.phone_lock.pin_length} digits"
        )
    now = utcnow()
    with engine.begin() as conn:
        if actor.user_id != user_id and not _may_administer_user(conn, actor, user_id):
            raise PermissionError(f"{actor.user_id} may not set the PIN of {user_id}")
        if conn.execute(sa.select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise ValueError(f"no user {user_id!r} in the directory")
        values = {"pin_hash": hash_secret(pin), "failures": 0, "locked_until": None, "changed_at": now}
        done = conn.execute(
            phone_pin.update().where(phone_pin.c.user_id == user_id).values(changed_by=actor.user_id, **values)
        ).rowcount
        if not done:
            conn.execute(phone_pin.insert().values(user_id=user_id, changed_by=actor.user_id, **values))
        audit(conn, actor.user_id, "phone.pin_set" if actor.user_id == user_id else "phone.pin_reset", user_id)


def reset_pin(settings, engine: Engine, actor: Principal, user_id: str, pin: str | None = None) -> str:
    """Give a person a new PIN chosen by the administrator, or a random one; returns the PIN to hand over."""
    while pin is None:
        candidate = "".join(secrets.choice("0123456789") for _ in range(settings.phone_lock.pin_length))
        pin = None if pin_problem(settings, candidate) else candidate
    set_pin(settings, engine, actor, user_id, pin)
    return pin


def _may_administer_user(conn: Connection, actor: Principal, user_id: str) -> bool:
    if actor.is_admin:
        return True
    if actor.role != "supervisor":
        return False
    row = conn.execute(sa.select(users.c.department, users.c.cost_centre).where(users.c.id == user_id)).first()
    return row is not None and (row.department in actor.departments or row.cost_centre in actor.cost_centres)


def has_pin(engine: Engine, user_id: str) -> bool:
    """True when the person has a PIN."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(phone_pin.c.pin_hash).where(phone_pin.c.user_id == user_id)).scalar())


def verify_pin(settings, engine: Engine, user_id: str, pin: str, now: datetime | None = None) -> PinResult:
    """Check a person's PIN, counting failures and refusing every PIN while locked out.

    The count changes with UPDATE ... SET failures = failures + 1 only while the phone is not locked
    out, so wrong PINs sent at the same moment each count and none passes the lockout another set.
    """
    now = now or utcnow()
    limit = settings.phone_lock.max_pin_failures
    p = phone_pin
    mine = p.c.user_id == user_id
    with engine.connect() as conn:
        row = conn.execute(sa.select(p).where(mine)).first()
    if row is None or not row.pin_hash:
        return PinResult(False, "no_pin")
    if row.locked_until is not None and row.locked_until > now:
        return PinResult(False, "locked_out", 0, row.locked_until)
    right = verify_secret(row.pin_hash, pin or "")
    not_locked = sa.or_(p.c.locked_until.is_(None), p.c.locked_until <= now)
    with engine.begin() as conn:
        if right:
            counted = conn.execute(p.update().where(mine, not_locked).values(failures=0, locked_until=None)).rowcount
        else:
            # a lockout that ran out starts the count afresh
            failures = sa.case((p.c.locked_until.is_(None), p.c.failures + 1), else_=1)
            counted = conn.execute(
                p.update().where(mine, not_locked).values(failures=failures, locked_until=None)
            ).rowcount
        if not counted:  # locked out by an attempt that came first
            until = conn.execute(sa.select(p.c.locked_until).where(mine)).scalar()
            return PinResult(False, "locked_out", 0, until)
        if right:
            return PinResult(True, "ok", limit)
        count = int(conn.execute(sa.select(p.c.failures).where(mine)).scalar_one())
        if count >= limit:
            until = now + timedelta(minutes=settings.phone_lock.pin_lockout_minutes)
            conn.execute(p.update().where(mine).values(locked_until=until))
            audit(conn, user_id, "phone.pin_lockout", user_id, f"{count} wrong PINs; locked until {until:%H:%M} UTC")
            return PinResult(False, "locked_out", 0, until)
        return PinResult(False, "wrong", limit - count)


def change_pin(settings, engine: Engine, user_id: str, old: str, new: str, repeat: str | None = None) -> PinResult:
    """A person changes their own PIN: the old one must be right (and counts as an attempt)."""
    if repeat is not None and new != repeat:
        return PinResult(False, "mismatch")
    problem = pin_problem(settings, new)
    if problem:
        return PinResult(False, problem)
    check = verify_pin(settings, engine, user_id, old)
    if not check.ok:
        return check
    set_pin(settings, engine, Principal(user_id=user_id), user_id, new)
    return PinResult(True, "ok", settings.phone_lock.max_pin_failures)


def unlock_with_pin(settings, engine: Engine, principal: Principal, pin: str, locked: bool) -> tuple[PinResult, dict]:
    """Lock or unlock the person's phone after checking their PIN (the IP phone service's path)."""
    check = verify_pin(settings, engine, principal.user_id, pin)
    if not check.ok:
        return check, {}
    return check, set_user_lock(settings, engine, principal, locked)


# --- the administrators' Users list ---------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """A row of the administrators' Users page."""

    user_id: str
    first_name: str
    last_name: str
    display_name: str
    department: str
    extensions: tuple[str, ...]
    status: str  # unlocked | user | budget | admin (the strongest lock of any of the extensions)
    admin_locked: bool
    has_pin: bool
    pin_locked_until: datetime | None
    states: dict[str, LockState] = field(default_factory=dict)
    enforcement: dict[str, enforcement.Enforcement] = field(default_factory=dict)


_STRENGTH = {"unlocked": 0, "user": 1, "budget": 2, "admin": 3}


def list_users(
    engine: Engine,
    actor: Principal,
    *,
    username: str = "",
    name: str = "",
    extension: str = "",
    status: str = "",
    limit: int = 500,
) -> list[UserRow]:
    """The people an administrator (all) or supervisor (their departments) may lock, with filters.

    username, name and extension match as case-insensitive substrings; status is one of
    'unlocked', 'locked' (any reason), 'user', 'budget', 'admin'.
    """
    if actor.role not in ("administrator", "supervisor"):
        raise PermissionError(f"{actor.user_id} may not list users")
    u = users
    q = sa.select(u).where(u.c.active.is_(True)).order_by(u.c.last_name, u.c.first_name, u.c.id)
    if not actor.is_admin:
        q = q.where(sa.or_(u.c.department.in_(actor.departments), u.c.cost_centre.in_(actor.cost_centres)))
    if username:
        q = q.where(sa.func.lower(u.c.id).contains(username.lower(), autoescape=True))
    if name:
        like = name.lower()
        q = q.where(
            sa.or_(
                sa.func.lower(u.c.first_name).contains(like, autoescape=True),
                sa.func.lower(u.c.last_name).contains(like, autoescape=True),
                sa.func.lower(u.c.display_name).contains(like, autoescape=True),
            )
        )
    with engine.connect() as conn:
        people = conn.execute(q).all()
        exts = current_extensions(conn, [p.id for p in people])
        pins = {r.user_id: r for r in conn.execute(sa.select(phone_pin))}
        states = lock_states(conn, [e for v in exts.values() for e in v])
    applied = enforcement.states(engine, list(states))
    out: list[UserRow] = []
    for p in people:
        mine = exts.get(p.id, [])
        if extension and not any(extension in e for e in mine):
            continue
        st = {e: states[e] for e in mine}
        strongest = max((s.status for s in st.values()), key=_STRENGTH.__getitem__, default="unlocked")
        if status and not (strongest == status or (status == "locked" and strongest != "unlocked")):
            continue
        pin = pins.get(p.id)
        out.append(
            UserRow(
                user_id=p.id,
                first_name=p.first_name,
                last_name=p.last_name,
                display_name=p.display_name,
                department=p.department,
                extensions=tuple(mine),
                status=strongest,
                admin_locked=any(s.admin_locked for s in st.values()),
                has_pin=bool(pin and pin.pin_hash),
                pin_locked_until=pin.locked_until if pin else None,
                states=st,
                enforcement={e: applied[e] for e in mine if e in applied},
            )
        )
        if len(out) >= limit:
            break
    return out


def my_phone(engine: Engine, principal: Principal) -> dict[str, LockState]:
    """The lock state of each of the person's extensions ('My Phone')."""
    return lock_states(engine, principal.extensions)


# --- devices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceOwner:
    """A phone and the extension / person it belongs to."""

    device: str
    extension: str
    user_id: str | None
    source: str


def valid_device_name(name: str | None) -> str | None:
    """The device name in upper case when it is a phone's SEP + 12 hex digits name, else None."""
    if not name:
        return None
    upper = name.strip().upper()
    return upper if DEVICE_NAME.match(upper) else None


def remember_device(
    engine: Engine, device: str, extension: str | None, user_id: str | None, source: str, address=None, model=None
) -> None:
    """Store (or refresh) what a device is."""
    now = utcnow()
    values = {"extension": extension, "user_id": user_id, "source": source, "learnt_at": now}
    if address:
        values.update(address=address, seen_at=now)
    if model:
        values["model"] = model
    with engine.begin() as conn:
        if not conn.execute(phone_device.update().where(phone_device.c.device == device).values(**values)).rowcount:
            conn.execute(phone_device.insert().values(device=device, **values))


def seen_device(engine: Engine, device: str, address: str | None, model: str | None) -> None:
    """Note the address and model a known phone last called from (for pushed notices)."""
    with engine.begin() as conn:
        conn.execute(
            phone_device.update()
            .where(phone_device.c.device == device)
            .values(address=address, model=model, seen_at=utcnow())
        )


def _device_from_cdrs(settings, device: str) -> str | None:
    """The extension a phone used for its latest call, from the `calls` view."""
    from warehouse import views

    scope = scope_filter(SYSTEM)
    cur = views.connect(settings)
    try:
        row = cur.execute(
            f"""
            select c.extension
            from calls as c
            where {scope.where("c")}
              and c.device = ?
              and c.extension is not null
              and c.leg_role = 'caller'
            order by c.started_at desc
            limit 1
            """,
            [*scope.params, device],
        ).fetchone()
    finally:
        cur.close()
    return row[0] if row else None


def device_owner(settings, engine: Engine, device: str) -> DeviceOwner | None:
    """What a phone is: a fresh stored mapping, else AXL getPhone (when configured), else its CDRs."""
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(sa.select(phone_device).where(phone_device.c.device == device)).first()
    fresh = timedelta(hours=settings.phone_lock.device_cache_hours)
    if row is not None and row.extension and (row.source == "manual" or now - row.learnt_at < fresh):
        with engine.connect() as conn:
            user = row.user_id or owner_of(conn, row.extension)
        return DeviceOwner(device, row.extension, user, row.source)
    extension: str | None = None
    owner: str | None = None
    source = "cdr"
    if settings.cucm.axl_url and settings.cucm.axl_user:
        from warehouse.axl import AxlError
        from warehouse.axl import client as axl_client

        try:
            phone = axl_client(settings).get_phone(device)
            if phone.lines:
                extension, owner, source = phone.lines[0].pattern, phone.owner or None, "axl"
        except AxlError:
            extension = None  # CUCM unreachable: fall back to what the CDRs say
    if extension is None:
        extension = _device_from_cdrs(settings, device)
    if extension is None:
        return (
            DeviceOwner(device, row.extension, row.user_id, row.source) if row is not None and row.extension else None
        )
    with engine.connect() as conn:
        directory_owner = owner_of(conn, extension)
        if owner and conn.execute(sa.select(users.c.id).where(users.c.id == owner)).first() is None:
            owner = None  # a CUCM owner who is not in our directory
    owner = directory_owner or owner
    remember_device(engine, device, extension, owner, source)
    return DeviceOwner(device, extension, owner, source)


def devices_of(engine: Engine, extensions: Iterable[str]) -> list:
    """The known phones (device, extension, address, model) of these extensions."""
    exts = list(extensions)
    if not exts:
        return []
    with engine.connect() as conn:
        return list(conn.execute(sa.select(phone_device).where(phone_device.c.extension.in_(exts))).all())
