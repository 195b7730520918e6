"""Log-in and sessions for every channel (portal, gadget, phone-service admin pages, API).

`login()` checks a user name and password and returns the person's Principal; `start_session()`
hands out an opaque token (only its SHA-256 is stored) that `session_principal()` turns back into
a Principal until it expires or `end_session()` ends it. Session lifetimes are per channel.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.access import Principal, authenticate_local, load_principal
from warehouse.appdb import UtcDateTime, metadata, utcnow

CHANNELS = ("portal", "gadget", "phone", "api")

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


def login(settings, engine: Engine, username: str, password: str, channel: str = "portal") -> LoginResult:
    """Check a user name and password; the principal on success, else a message fit to show."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    username = (username or "").strip()
    principal = authenticate_local(engine, username, password or "") if username else None
    if principal is None:
        return LoginResult(None, "Unknown user name or wrong password.")
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
    if token:
        with engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == _hash(token)))
