"""The audit log: who did what to whom, and when (log-ins, admin changes, lock changes, unmasked views).

`audit()` appends one entry; nothing ever updates or deletes one. `query_audit()` reads them back
with filters and paging for the administrator's page. The actor is a user name (for a failed log-in,
the name that was typed) or `cli:<system user>` / `system:<job>` for changes made outside a session.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse.appdb import audit_log, utcnow

# Actions, by area. Pages filter on these names (or on a prefix such as "login" or "phone").
LOGIN = "login"
LOGIN_FAILED = "login.failed"
LOGIN_LOCKED = "login.locked"  # the attempt that locked the user name
LOGIN_REFUSED_LOCKED = "login.refused_locked"  # an attempt while the user name is locked
LOGIN_UNLOCKED = "login.unlocked"  # an administrator lifted a lock
LOGOUT = "logout"
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_ROLE = "user.role"
USER_SCOPE = "user.scope"
USER_PASSWORD = "user.password"
USER_ACTIVE = "user.active"
USER_EXTENSION = "user.extension"
DIRECTORY_SYNC = "directory.sync"
DIRECTORY_IMPORT = "directory.import"
# written by warehouse.phonelock and warehouse.budgets
PHONE_USER_LOCK = "phone.user_lock"
PHONE_USER_UNLOCK = "phone.user_unlock"
PHONE_ADMIN_LOCK = "phone.admin_lock"
PHONE_ADMIN_UNLOCK = "phone.admin_unlock"
PHONE_PIN_SET = "phone.pin_set"
PHONE_PIN_RESET = "phone.pin_reset"
PHONE_PIN_LOCKOUT = "phone.pin_lockout"
PHONE_CUCM_RETRY = "phone.cucm_retry"  # an administrator asked to retry pending CUCM changes now
BUDGET_ASSIGN = "budget.assign"
BUDGET_REMOVE = "budget.remove"
NUMBERS_UNMASKED = "numbers.unmasked"
API_TOKEN_CREATED = "api_token.created"
API_TOKEN_REVOKED = "api_token.revoked"
# written by warehouse.runtime_settings and the administration pages
SETTINGS_CHANGED = "settings.changed"
SETTINGS_RESET = "settings.reset"
TARIFF_INSTALLED = "tariff.installed"
TARIFF_VERSION_CLOSED = "tariff.version_closed"
CALLS_REPROCESSED = "calls.reprocessed"

ACTIONS = (
    LOGIN,
    LOGIN_FAILED,
    LOGIN_LOCKED,
    LOGIN_REFUSED_LOCKED,
    LOGIN_UNLOCKED,
    LOGOUT,
    USER_CREATED,
    USER_UPDATED,
    USER_ROLE,
    USER_SCOPE,
    USER_PASSWORD,
    USER_ACTIVE,
    USER_EXTENSION,
    DIRECTORY_SYNC,
    DIRECTORY_IMPORT,
    PHONE_USER_LOCK,
    PHONE_USER_UNLOCK,
    PHONE_ADMIN_LOCK,
    PHONE_ADMIN_UNLOCK,
    PHONE_PIN_SET,
    PHONE_PIN_RESET,
    PHONE_PIN_LOCKOUT,
    PHONE_CUCM_RETRY,
    BUDGET_ASSIGN,
    BUDGET_REMOVE,
    NUMBERS_UNMASKED,
    API_TOKEN_CREATED,
    API_TOKEN_REVOKED,
    SETTINGS_CHANGED,
    SETTINGS_RESET,
    TARIFF_INSTALLED,
    TARIFF_VERSION_CLOSED,
    CALLS_REPROCESSED,
)

# Column widths of audit_log (0001): longer values are cut, never refused.
_ACTOR_MAX = 128
_ACTION_MAX = 64
_TARGET_MAX = 255


def cli_actor() -> str:
    """The actor name for a change made from the command line: `cli:<system user>`."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"cli:{name}"


def _detail_text(detail: str | dict | None) -> str:
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    return json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)


def audit(
    engine: Engine | Connection,
    actor: str,
    action: str,
    target: str = "",
    detail: str | dict | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Append one entry to the audit log (detail: text, or a dict stored as JSON)."""
    values = {
        "at": at or utcnow(),
        "actor": (actor or "")[:_ACTOR_MAX],
        "action": action[:_ACTION_MAX],
        "target": (target or "")[:_TARGET_MAX],
        "detail": _detail_text(detail),
    }
    if isinstance(engine, Connection):
        engine.execute(audit_log.insert().values(**values))
        return
    with engine.begin() as conn:
        conn.execute(audit_log.insert().values(**values))


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log; `detail` is the stored text (JSON for structured details)."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str

    @property
    def detail_data(self) -> dict:
        """The detail as a dict when it was stored as JSON, else {'text': detail}."""
        try:
            data = json.loads(self.detail)
        except ValueError:
            return {"text": self.detail} if self.detail else {}
        return data if isinstance(data, dict) else {"text": self.detail}


@dataclass(frozen=True)
class AuditPage:
    """One page of audit entries, newest first, and how many match in all."""

    entries: list[AuditEntry]
    total: int
    offset: int
    limit: int


def query_audit(
    engine: Engine,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AuditPage:
    """Audit entries newest first, filtered and paged.

    `actor` and `target` match exactly (case-insensitive); `action` matches exactly or as a prefix
    ("login" finds login, login.failed, login.locked, ...); `text` searches actor, target and detail;
    `since` is inclusive and `until` exclusive.
    """
    if limit < 1 or limit > 1000:
        raise ValueError("limit must be between 1 and 1000")
    if offset < 0:
        raise ValueError("offset cannot be negative")
    conds = []
    if actor:
        conds.append(sa.func.lower(audit_log.c.actor) == actor.lower())
    if target:
        conds.append(sa.func.lower(audit_log.c.target) == target.lower())
    if action:
        conds.append(sa.or_(audit_log.c.action == action, audit_log.c.action.startswith(action + ".", autoescape=True)))
    if text:
        needle = text.lower()
        conds.append(
            sa.or_(
                *(
                    sa.func.lower(col).contains(needle, autoescape=True)
                    for col in (audit_log.c.actor, audit_log.c.target, audit_log.c.detail)
                )
            )
        )
    if since is not None:
        conds.append(audit_log.c.at >= since)
    if until is not None:
        conds.append(audit_log.c.at < until)
    where = sa.and_(sa.true(), *conds)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(where)).scalar_one()
        rows = conn.execute(
            sa.select(audit_log)
            .where(where)
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    entries = [AuditEntry(r.id, r.at, r.actor, r.action, r.target, r.detail) for r in rows]
    return AuditPage(entries, int(total), offset, limit)
