"""Personal API tokens: a person creates them (portal, CLI), uses them as Bearer tokens, revokes them.

A token is `rl_` + 43 random URL-safe characters, shown once when it is made; only its SHA-256 is
stored (a token is random enough that a slow hash adds nothing), with its first characters so the
owner can tell their tokens apart. A token acts as its owner with the owner's current rights: a
change of role or scope applies at once, and a switched-off owner's tokens stop working. Tokens
expire after `[api] token_days` unless the owner chose another lifetime; the owner or an
administrator may revoke one at any time. Creation and revocation are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.access import Principal, load_principal
from warehouse.appdb import UtcDateTime, metadata, utcnow
from warehouse.audit import API_TOKEN_CREATED, API_TOKEN_REVOKED, audit

PREFIX = "rl_"
NAME_MAX = 80
SHOWN = 10  # characters of a token kept in clear to recognise it by
# last_used_at is written at most this often per token (a busy script must not write on every call)
TOUCH_EVERY = timedelta(minutes=1)

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(NAME_MAX), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("shown", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("expires_at", UtcDateTime),
    sa.Column("last_used_at", UtcDateTime),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("revoked_by", sa.String(128)),
    sa.Index("ix_api_token_user", "user_id"),
)


@dataclass(frozen=True)
class TokenInfo:
    """A token as its owner sees it in the list (never the secret)."""

    id: int
    user_id: str
    name: str
    shown: str  # the first characters, then an ellipsis
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    def active(self, now: datetime | None = None) -> bool:
        """True while the token works: not revoked and not expired."""
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(r) -> TokenInfo:
    return TokenInfo(
        id=r.id,
        user_id=r.user_id,
        name=r.name,
        shown=r.shown + "…",
        created_at=r.created_at,
        expires_at=r.expires_at,
        last_used_at=r.last_used_at,
        revoked_at=r.revoked_at,
        revoked_by=r.revoked_by,
    )


def create_token(
    settings, engine: Engine, owner: Principal, name: str, days: int | None = None, *, actor: str | None = None
) -> tuple[TokenInfo, str]:
    """A new token for this person; returns its listing and the secret, which is never shown again.

    `days` is its lifetime (None: `[api] token_days`; 0: until revoked).
    """
    label = (name or "").strip()
    if not label:
        raise ValueError("a token needs a name (what it is for, e.g. 'billing script')")
    if len(label) > NAME_MAX:
        raise ValueError(f"a token name has at most {NAME_MAX} characters, not {len(label)}")
    lifetime = settings.api.token_days if days is None else days
    if not isinstance(lifetime, int) or lifetime < 0 or lifetime > 3650:
        raise ValueError(f"a token lasts 0 (until revoked) to 3650 days, not {days!r}")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        new_id = conn.execute(
            api_token.insert().values(
                user_id=owner.user_id,
                name=label,
                token_hash=_hash(secret),
                shown=secret[:SHOWN],
                created_at=now,
                created_by=actor or owner.user_id,
                expires_at=now + timedelta(days=lifetime) if lifetime else None,
            )
        ).inserted_primary_key
        assert new_id is not None
        row = conn.execute(sa.select(api_token).where(api_token.c.id == new_id[0])).one()
    audit(engine, actor or owner.user_id, API_TOKEN_CREATED, owner.user_id, {"token": row.id, "name": label})
    return _info(row), secret


def list_tokens(engine: Engine, user_id: str | None = None, *, include_revoked: bool = True) -> list[TokenInfo]:
    """A person's tokens (everyone's when user_id is None), newest first."""
    q = sa.select(api_token).order_by(api_token.c.created_at.desc(), api_token.c.id.desc())
    if user_id is not None:
        q = q.where(api_token.c.user_id == user_id)
    if not include_revoked:
        q = q.where(api_token.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(q)]


def revoke_token(engine: Engine, actor: Principal | str, token_id: int) -> TokenInfo:
    """Revoke a token: its owner may, and administrators may revoke anyone's (the string actor: CLI)."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(api_token).where(api_token.c.id == token_id)).first()
        if row is None:
            raise LookupError(f"no API token with id {token_id}")
        if isinstance(actor, Principal):
            if actor.user_id != row.user_id and not actor.is_admin:
                raise PermissionError(f"{actor.user_id} may not revoke a token of {row.user_id}")
            who = actor.user_id
        else:
            who = actor
        if row.revoked_at is None:
            conn.execute(
                api_token.update().where(api_token.c.id == token_id).values(revoked_at=utcnow(), revoked_by=who)
            )
        row = conn.execute(sa.select(api_token).where(api_token.c.id == token_id)).one()
    audit(engine, who, API_TOKEN_REVOKED, row.user_id, {"token": row.id, "name": row.name})
    return _info(row)


def token_principal(engine: Engine, secret: str | None) -> tuple[Principal, TokenInfo] | None:
    """The owner of a live token and the token, or None (unknown, revoked, expired, owner switched off)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = utcnow()
    with engine.connect() as conn:
        row = conn.execute(sa.select(api_token).where(api_token.c.token_hash == _hash(secret))).first()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    principal = load_principal(engine, row.user_id)
    if principal is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(api_token.update().where(api_token.c.id == row.id).values(last_used_at=now))
    return principal, _info(row)
