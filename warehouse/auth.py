"""Log-in and sessions for every channel (portal, gadget, phone-service admin pages, API).

`login()` checks a user name and password and returns the person's Principal; `start_session()`
hands out an opaque token (only its SHA-256 is stored) that `session_principal()` turns back into
a Principal until it expires or `end_session()` ends it. Session lifetimes are per channel.

Who checks the password: a directory user (synced from LDAP / AD) binds to the directory as
themselves; an account created in Ringledger (`users add`, CSV import) with a password set checks it
against its Argon2id hash; with a directory configured, anyone else the directory knows is let in by
bind and provisioned on the spot. After `[login] max_failures` failures a user name is locked for
`lockout_minutes`, whether or not such a user exists, so the answer never tells who exists. Every
log-in, failure, lock-out and log-out is written to the audit log.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from warehouse.access import Principal, account_block, authenticate_local, burn_verify, load_principal
from warehouse.appdb import UtcDateTime, metadata, users, utcnow
from warehouse.audit import LOGIN, LOGIN_FAILED, LOGIN_LOCKED, LOGIN_REFUSED_LOCKED, LOGOUT, audit

CHANNELS = ("portal", "gadget", "phone", "api")

BAD_CREDENTIALS = "Unknown user name or wrong password."
DIRECTORY_DOWN = "The directory cannot be reached right now. Try again in a few minutes or ask your administrator."

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
)

# Failed log-ins per user name as typed (lower-cased), known or not.
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("username", sa.String(128), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_failure_at", UtcDateTime),
    sa.Column("last_failure_at", UtcDateTime),
    sa.Column("locked_until", UtcDateTime),
)


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a log-in: the principal, or why not (never which of name or password was wrong)."""

    principal: Principal | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.principal is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime(settings, channel: str) -> timedelta:
    """How long a session of this channel lasts (configurable per channel)."""
    minutes = settings.sessions.minutes.get(channel, settings.sessions.minutes.get("portal", 480))
    return timedelta(minutes=minutes)


def locked_message(until: datetime, now: datetime) -> str:
    """What a person is told while their user name is locked."""
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return f"Too many failed log-ins with this user name. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _throttle_key(username: str) -> str:
    return username.strip().lower()[:128]


def locked_until(engine: Engine, username: str, now: datetime | None = None) -> datetime | None:
    """Until when this user name is locked, or None."""
    now = now or utcnow()
    with engine.connect() as conn:
        until = conn.execute(
            sa.select(login_throttle.c.locked_until).where(login_throttle.c.username == _throttle_key(username))
        ).scalar()
    return until if until is not None and until > now else None


def _record_failure(settings, engine: Engine, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count a failure; (failures in the current window, lock end if this one locked the name).

    The count is changed with UPDATE ... SET failures = failures + 1, so log-ins failing at the same
    moment in several processes are all counted.
    """
    window = timedelta(minutes=settings.login.lockout_minutes)
    lt = login_throttle
    mine = lt.c.username == key
    try:
        with engine.begin() as conn:
            conn.execute(lt.insert().values(username=key, failures=0, first_failure_at=now))
    except IntegrityError:
        pass  # the user name has failed before
    with engine.begin() as conn:
        # a lock that ran out, or failures older than the window, start a new count
        conn.execute(
            lt.update()
            .where(
                mine,
                sa.or_(
                    sa.and_(lt.c.locked_until.is_not(None), lt.c.locked_until <= now),
                    lt.c.first_failure_at.is_(None),
                    lt.c.first_failure_at < now - window,
                ),
            )
            .values(failures=0, first_failure_at=now, locked_until=None)
        )
        conn.execute(lt.update().where(mine).values(failures=lt.c.failures + 1, last_failure_at=now))
        # None: a right password or an administrator cleared the name in between; this one still counts
        failures = int(conn.execute(sa.select(lt.c.failures).where(mine)).scalar() or 1)
        lock = None
        if failures >= settings.login.max_failures:
            lock = now + window
            conn.execute(lt.update().where(mine, lt.c.locked_until.is_(None)).values(locked_until=lock))
    return failures, lock


def clear_failures(engine: Engine, username: str) -> None:
    """Forget a user name's failed log-ins and lift its lock (a good log-in, or an administrator)."""
    with engine.begin() as conn:
        conn.execute(login_throttle.delete().where(login_throttle.c.username == _throttle_key(username)))


def _forget_failures_unless_locked(engine: Engine, key: str, now: datetime) -> datetime | None:
    """After a right password: forget the name's failures, unless another attempt locked it
    meanwhile; then the end of that lock."""
    lt = login_throttle
    mine = lt.c.username == key
    with engine.begin() as conn:
        conn.execute(lt.delete().where(mine, sa.or_(lt.c.locked_until.is_(None), lt.c.locked_until <= now)))
        until = conn.execute(sa.select(lt.c.locked_until).where(mine)).scalar()
    return until if until is not None and until > now else None


class _DirectoryDown(Exception):
    pass


def _authenticate(settings, engine: Engine, typed: str, password: str) -> tuple[Principal | None, str]:
    """The principal whose credentials these are, else (None, reason for the audit log)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.id, users.c.source, users.c.password_hash, users.c.active)
            .where(sa.func.lower(users.c.id) == typed.lower())
            .order_by(users.c.id)
        ).first()
        blocked = (
            row is not None
            and conn.execute(sa.select(account_block.c.user_id).where(account_block.c.user_id == row.id)).first()
            is not None
        )
    if row is not None and row.source != "ldap" and row.password_hash:
        principal = authenticate_local(engine, row.id, password)
        if principal is None:
            return None, "inactive account" if not row.active else "wrong password"
        return principal, ""
    if not settings.ldap.configured:
        burn_verify(password)
        return None, "no password set" if row is not None else "unknown user"
    from warehouse import ldap_directory

    try:
        entry = ldap_directory.authenticate(settings, typed, password)
    except ldap_directory.DirectoryUnavailable as exc:
        raise _DirectoryDown(str(exc)) from None
    if entry is None:
        return None, "directory refused the user name or password"
    name = entry.first(settings.ldap.mapping()["username"])
    with engine.connect() as conn:
        known = conn.execute(sa.select(users.c.id, users.c.active, users.c.source).where(users.c.id == name)).first()
        blocked = (
            blocked
            or conn.execute(sa.select(account_block.c.user_id).where(account_block.c.user_id == name)).first()
            is not None
        )
    if blocked:
        return None, "account switched off by an administrator"
    if known is None or not known.active or known.source != "ldap":
        try:
            ldap_directory.provision(settings, engine, entry)
        except ldap_directory.DirectoryUnavailable as exc:
            raise _DirectoryDown(str(exc)) from None
        except ldap_directory.DirectorySyncError as exc:
            return None, f"directory entry unusable: {exc}"
    principal = load_principal(engine, name)
    return principal, "" if principal else "inactive account"


def login(
    settings, engine: Engine, username: str, password: str, channel: str = "portal", *, remote: str = ""
) -> LoginResult:
    """Check a user name and password; the principal on success, else a message fit to show.

    `remote` (the client's address, if known) goes into the audit log.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    typed = (username or "").strip()
    if not typed:
        return LoginResult(None, BAD_CREDENTIALS)
    key = _throttle_key(typed)
    now = utcnow()
    where = {"remote": remote} if remote else {}
    until = locked_until(engine, key, now)
    if until is not None:
        audit(engine, typed, LOGIN_REFUSED_LOCKED, channel, {"until": until.isoformat(), **where})
        return LoginResult(None, locked_message(until, now))
    try:
        principal, reason = _authenticate(settings, engine, typed, password or "")
    except _DirectoryDown as exc:
        audit(engine, typed, LOGIN_FAILED, channel, {"reason": "directory unreachable", "error": str(exc), **where})
        return LoginResult(None, DIRECTORY_DOWN)
    if principal is None:
        failures, lock = _record_failure(settings, engine, key, now)
        audit(engine, typed, LOGIN_FAILED, channel, {"reason": reason, "failures": failures, **where})
        if lock is not None:
            audit(engine, typed, LOGIN_LOCKED, channel, {"until": lock.isoformat(), "failures": failures, **where})
            return LoginResult(None, locked_message(lock, now))
        return LoginResult(None, BAD_CREDENTIALS)
    until = _forget_failures_unless_locked(engine, key, now)
    if until is not None:
        # attempts sent at the same moment locked the name while this one was checked: it waits too
        audit(engine, typed, LOGIN_REFUSED_LOCKED, channel, {"until": until.isoformat(), **where})
        return LoginResult(None, locked_message(until, now))
    audit(engine, principal.user_id, LOGIN, channel, where or None)
    return LoginResult(principal)


def start_session(settings, engine: Engine, principal: Principal, channel: str) -> str:
    """A new session token for this person on this channel."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            sessions.insert().values(
                token_hash=_hash(token),
                user_id=principal.user_id,
                channel=channel,
                created_at=now,
                expires_at=now + session_lifetime(settings, channel),
                last_seen_at=now,
            )
        )
    return token


def session_principal(settings, engine: Engine, token: str | None, channel: str) -> Principal | None:
    """The person a live session token belongs to, or None when unknown, expired or of another channel."""
    if not token:
        return None
    now = utcnow()
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(sessions.c.user_id, sessions.c.expires_at).where(
                sessions.c.token_hash == _hash(token), sessions.c.channel == channel
            )
        ).first()
        if row is None or row.expires_at <= now:
            return None
        conn.execute(sessions.update().where(sessions.c.token_hash == _hash(token)).values(last_seen_at=now))
    return load_principal(engine, row.user_id)


def end_session(engine: Engine, token: str | None) -> None:
    """Log out: the token stops working at once."""
    if not token:
        return
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(sessions.c.user_id, sessions.c.channel).where(sessions.c.token_hash == _hash(token))
        ).first()
        conn.execute(sessions.delete().where(sessions.c.token_hash == _hash(token)))
    if row is not None:
        audit(engine, row.user_id, LOGOUT, row.channel)


def end_sessions_of(engine: Engine, user_id: str) -> int:
    """End every session of a person (switched off, password changed); how many ended."""
    with engine.begin() as conn:
        return int(conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount or 0)
