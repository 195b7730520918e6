"""Putting lock states into effect on CUCM, and remembering what was intended until it is.

Every extension whose lock state changes gets a row in `enforcement_state`: what Ringledger intends
(locked / unlocked), what is applied, with which engine, the line's original calling search space, the
attempts and the last error. The engine comes from `[cucm] enforcement`:
- "record": nothing is sent anywhere; the state is applied as soon as it is recorded;
- "curri": CUCM asks the policy endpoint before routing each call, and the endpoint reads the lock
  states from the app database, so a recorded state is applied;
- "axl": the line is moved to `[cucm] blocking_css` with AXL updateLine (its original CSS saved first,
  restored on unlock). Changes are serialized across processes, idempotent (getLine first), and a
  failure is recorded and retried with backoff by `retry_due()`, so the intended state is never lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, metadata, utcnow
from warehouse.audit import PHONE_CUCM_RETRY, audit
from warehouse.axl import AxlClient, AxlError
from warehouse.axl import client as axl_client

LOCKED = "locked"
UNLOCKED = "unlocked"

enforcement_state = sa.Table(
    "enforcement_state",
    metadata,
    sa.Column("extension", sa.String(64), primary_key=True),
    sa.Column("engine", sa.String(8), nullable=False),
    sa.Column("intended", sa.String(8), nullable=False),
    sa.Column("applied", sa.String(8)),  # NULL: never applied
    # The line's own CSS before Ringledger put it on the blocking CSS (kept until restored).
    sa.Column("original_css", sa.String(128)),
    sa.Column("original_saved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("line_partition", sa.String(128), nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_attempt_at", UtcDateTime),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("applied_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_enforcement_state_due", "next_attempt_at"),
)


@dataclass(frozen=True)
class Enforcement:
    """One extension's enforcement: intended vs applied, and why not yet."""

    extension: str
    engine: str
    intended: str
    applied: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    applied_at: datetime | None
    original_css: str | None

    @property
    def in_effect(self) -> bool:
        """True when CUCM does what Ringledger intends."""
        return self.applied == self.intended


_process_lock = threading.Lock()


@contextlib.contextmanager
def _serialized(settings) -> Iterator[None]:
    """One CUCM change at a time across every thread and process of this data home."""
    folder = settings.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with _process_lock, (folder / "cucm.lock").open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _backoff(settings, attempts: int) -> timedelta:
    seconds = settings.cucm.retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.cucm.retry_max_seconds))


def _row(r) -> Enforcement:
    return Enforcement(
        extension=r.extension,
        engine=r.engine,
        intended=r.intended,
        applied=r.applied,
        attempts=r.attempts,
        last_error=r.last_error,
        next_attempt_at=r.next_attempt_at,
        applied_at=r.applied_at,
        original_css=r.original_css,
    )


def apply(settings, engine: Engine, intended: Mapping[str, bool]) -> dict[str, Enforcement]:
    """Record the intended lock state of these extensions and put it into effect now where possible."""
    now = utcnow()
    mode = settings.cucm.enforcement
    es = enforcement_state
    with engine.begin() as conn:
        for ext, locked in intended.items():
            want = LOCKED if locked else UNLOCKED
            row = conn.execute(sa.select(es.c.intended, es.c.applied).where(es.c.extension == ext)).first()
            if row is None:
                conn.execute(
                    es.insert().values(
                        extension=ext,
                        engine=mode,
                        intended=want,
                        applied=None,
                        line_partition=settings.cucm.line_partition,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
            elif row.intended != want or row.applied != want:
                conn.execute(
                    es.update()
                    .where(es.c.extension == ext)
                    .values(engine=mode, intended=want, attempts=0, next_attempt_at=now, updated_at=now)
                )
    _drive(settings, engine, list(intended))
    return states(engine, list(intended))


def retry_due(settings, engine: Engine, now: datetime | None = None) -> dict[str, Enforcement]:
    """Try again every extension whose applied state differs from the intended one and is due."""
    now = now or utcnow()
    es = enforcement_state
    with engine.connect() as conn:
        due = [
            r.extension
            for r in conn.execute(
                sa.select(es.c.extension).where(
                    sa.or_(es.c.applied.is_(None), es.c.applied != es.c.intended),
                    sa.or_(es.c.next_attempt_at.is_(None), es.c.next_attempt_at <= now),
                )
            )
        ]
    if due:
        _drive(settings, engine, due)
    return states(engine, due)


def retry_now(settings, engine: Engine, actor: str, extensions: list[str] | None = None) -> dict[str, Enforcement]:
    """Try the pending CUCM changes again at once, whatever their backoff says (the admin page's button)."""
    es = enforcement_state
    q = sa.select(es.c.extension).where(sa.or_(es.c.applied.is_(None), es.c.applied != es.c.intended))
    if extensions is not None:
        q = q.where(es.c.extension.in_(extensions))
    with engine.connect() as conn:
        pending = list(conn.execute(q.order_by(es.c.extension)).scalars())
    if not pending:
        return {}
    audit(engine, actor, PHONE_CUCM_RETRY, ", ".join(pending)[:255])
    _drive(settings, engine, pending)
    return states(engine, pending)


def due_count(engine: Engine, now: datetime | None = None) -> int:
    """How many extensions wait for a due CUCM change (cheap; for sensors)."""
    now = now or utcnow()
    es = enforcement_state
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(es)
                .where(
                    sa.or_(es.c.applied.is_(None), es.c.applied != es.c.intended),
                    sa.or_(es.c.next_attempt_at.is_(None), es.c.next_attempt_at <= now),
                )
            ).scalar()
            or 0
        )


def states(engine: Engine, extensions: list[str] | None = None) -> dict[str, Enforcement]:
    """The enforcement rows of some extensions (all when None)."""
    q = sa.select(enforcement_state)
    if extensions is not None:
        q = q.where(enforcement_state.c.extension.in_(extensions))
    with engine.connect() as conn:
        return {r.extension: _row(r) for r in conn.execute(q)}


def problems(engine: Engine) -> list[Enforcement]:
    """Extensions where CUCM does not (yet) do what Ringledger intends, for the admin pages."""
    es = enforcement_state
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(es)
            .where(sa.or_(es.c.applied.is_(None), es.c.applied != es.c.intended, es.c.last_error.is_not(None)))
            .order_by(es.c.updated_at.desc())
        ).all()
    return [_row(r) for r in rows]


def _drive(settings, engine: Engine, extensions: list[str]) -> None:
    mode = settings.cucm.enforcement
    if mode != "axl":
        # record / curri: the recorded state is what the policy endpoint (or nobody) enforces
        now = utcnow()
        es = enforcement_state
        with engine.begin() as conn:
            conn.execute(
                es.update()
                .where(es.c.extension.in_(extensions))
                .values(
                    engine=mode,
                    applied=es.c.intended,
                    applied_at=now,
                    attempts=0,
                    last_error=None,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
        return
    try:
        axl = axl_client(settings)
    except AxlError as exc:
        for ext in extensions:
            _failed(settings, engine, ext, str(exc))
        return
    with _serialized(settings):
        for ext in extensions:
            _drive_axl(settings, engine, axl, ext)


def _failed(settings, engine: Engine, ext: str, error: str) -> None:
    now = utcnow()
    es = enforcement_state
    with engine.begin() as conn:
        attempts = (conn.execute(sa.select(es.c.attempts).where(es.c.extension == ext)).scalar() or 0) + 1
        conn.execute(
            es.update()
            .where(es.c.extension == ext)
            .values(
                attempts=attempts,
                last_attempt_at=now,
                next_attempt_at=now + _backoff(settings, attempts),
                last_error=error,
                updated_at=now,
            )
        )


def _drive_axl(settings, engine: Engine, axl: AxlClient, ext: str) -> None:
    """Bring one line to its intended CSS; every step is safe to repeat."""
    es = enforcement_state
    with engine.connect() as conn:
        row = conn.execute(sa.select(es).where(es.c.extension == ext)).first()
    if row is None or row.applied == row.intended:
        return
    blocking = settings.cucm.blocking_css
    partition = row.line_partition
    now = utcnow()
    try:
        line = axl.get_line(ext, partition)
        if row.intended == LOCKED:
            if line.css != blocking:
                # save the original before changing anything, so it can never be lost
                with engine.begin() as conn:
                    conn.execute(
                        es.update()
                        .where(es.c.extension == ext)
                        .values(original_css=line.css, original_saved=True, updated_at=now)
                    )
                axl.update_line_css(ext, partition, blocking)
            elif not row.original_saved:
                raise AxlError(
                    f"line {ext} is already on {blocking} and its original calling search space is unknown; "
                    "set it by hand in CUCM before unlocking"
                )
        else:
            if line.css == blocking:
                if not row.original_saved:
                    raise AxlError(f"line {ext} is on {blocking} but its original calling search space is unknown")
                axl.update_line_css(ext, partition, row.original_css or "")
            # a line no longer on the blocking CSS is unlocked already (changed by hand, or a repeat)
    except AxlError as exc:
        _failed(settings, engine, ext, str(exc))
        return
    values: dict = {
        "engine": "axl",
        "applied": row.intended,
        "applied_at": utcnow(),
        "attempts": 0,
        "last_attempt_at": now,
        "next_attempt_at": None,
        "last_error": None,
        "updated_at": utcnow(),
    }
    if row.intended == UNLOCKED:
        values.update(original_css=None, original_saved=False)
    with engine.begin() as conn:
        # only if nobody changed the intention meanwhile; otherwise the next drive handles it
        conn.execute(es.update().where(es.c.extension == ext, es.c.intended == row.intended).values(**values))
