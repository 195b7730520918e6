"""Budget control: budgets per person, department or cost centre, and what happens when they are spent.

A budget is an amount per week or per month, counted in the budget's time zone (a person's own zone,
else their site's, else the company's; for a group the zone most of its people share), so a month
starts at local midnight on the 1st whatever daylight saving does. Each period gets a row in
`budget_period` with its allowance (the amount, plus what the previous period left over when
carry-over is on) and what was spent: the cost of the billable calls of the budget's people in the
budget's currency, read from the `calls` view through the query layer's scope filter.

`evaluate()` is run by the pipelines right after each ingest and at each period boundary:
- it opens the current period and closes finished ones once `[budgets] late_cdr_minutes` have passed
  (so calls whose records arrive late still count), carrying the residual over when asked;
- it mails the person and their manager once per period for each threshold crossed (80% and 100%
  by default); for a department or cost centre the mail goes to the managers of its people, and, when
  the budget is spent and phones lock, to the people too;
- it locks the phones of a spent budget (a budget lock, beside the user's and the administrator's own
  locks) and removes that lock as soon as the budget is no longer spent: a new period, a larger amount.
Every action is written to `budget_event`: the History page.

Only positive residuals are carried over; an overspent period does not reduce the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from warehouse import lock_texts, mail, phonelock
from warehouse.access import Principal, mask_result, scope_filter
from warehouse.appdb import UtcDateTime, metadata, users, utcnow
from warehouse.calls import sql_text
from warehouse.lock_texts import translate

SCOPES = ("user", "department", "cost_centre")
PERIODS = ("weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVENT_KINDS = (
    "assigned",
    "changed",
    "removed",
    "lock",
    "unlock",
    "notification",
    "period_end",
    "carry_over",
)


class Money(sa.types.TypeDecorator):
    """A Decimal amount: NUMERIC on PostgreSQL, exact text on SQLite (which has no decimal type)."""

    impl = sa.String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(18, 6))
        return dialect.type_descriptor(sa.String(40))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value)
        return amount if dialect.name == "postgresql" else format(amount, "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


budget = sa.Table(
    "budget",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(16), nullable=False),  # user | department | cost_centre
    sa.Column("subject", sa.String(128), nullable=False),  # user id, department or cost centre name
    sa.Column("period", sa.String(8), nullable=False),  # weekly | monthly
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("carry_over", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("thresholds", sa.String(64), nullable=False, server_default="80,100"),  # percentages
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("lock_on_exhaust", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Index("ix_budget_subject", "scope", "subject"),
)

budget_period = sa.Table(
    "budget_period",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),  # exclusive
    sa.Column("first_day", sa.Date, nullable=False),  # local dates, in the budget's zone
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("base_amount", Money, nullable=False),
    sa.Column("carried_in", Money, nullable=False),
    sa.Column("spent", Money, nullable=False),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("other_currency_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("evaluated_at", UtcDateTime),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("carried_out", Money),
    sa.UniqueConstraint("budget_id", "starts_at", name="uq_budget_period_start"),
)

budget_event = sa.Table(
    "budget_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), nullable=False),
    sa.Column("period_start", UtcDateTime),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(128)),  # the person concerned, when there is one
    sa.Column("extension", sa.String(64)),
    sa.Column("amount", Money),
    sa.Column("threshold", sa.Integer),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("actor", sa.String(128), nullable=False, server_default="ringledger"),
    sa.Index("ix_budget_event_budget", "budget_id", "at"),
    sa.Index("ix_budget_event_user", "user_id", "at"),
)

# A threshold is notified once per budget period: this row is the proof it was.
budget_notification = sa.Table(
    "budget_notification",
    metadata,
    sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("period_start", UtcDateTime, primary_key=True),
    sa.Column("threshold", sa.Integer, primary_key=True),
    sa.Column("notified_at", UtcDateTime, nullable=False),
)


# --- periods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One budget period: UTC bounds [starts_at, ends_at) and its first and last local day."""

    starts_at: datetime
    ends_at: datetime
    first_day: date
    last_day: date


def _local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _next_first(kind: str, first: date) -> date:
    if kind == "weekly":
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_starting(kind: str, zone: str, first: date) -> Period:
    """The period that begins on a local day."""
    tz = zoneinfo.ZoneInfo(zone)
    nxt = _next_first(kind, first)
    return Period(_local_midnight(first, tz), _local_midnight(nxt, tz), first, nxt - timedelta(days=1))


def period_at(kind: str, zone: str, at: datetime, week_starts_on: str = "monday") -> Period:
    """The weekly or monthly period, in the zone's local time, that contains the instant `at`."""
    if kind not in PERIODS:
        raise ValueError(f"period {kind!r} is not one of {', '.join(PERIODS)}")
    local = at.astimezone(zoneinfo.ZoneInfo(zone)).date()
    if kind == "monthly":
        first = local.replace(day=1)
    else:
        first = local - timedelta(days=(local.weekday() - WEEKDAYS.index(week_starts_on)) % 7)
    return period_starting(kind, zone, first)


# --- budgets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """A budget as assigned."""

    id: int
    scope: str
    subject: str
    period: str
    amount: Decimal
    currency: str
    carry_over: bool
    thresholds: tuple[int, ...]
    time_zone: str
    lock_on_exhaust: bool
    active: bool
    note: str

    def label(self, lang: str | None = "en") -> str:
        """The budget's name as people see it ('Personal budget', 'Department Sales')."""
        if self.scope == "user":
            return translate("Personal budget", lang)
        if self.scope == "department":
            return translate("Department {name}", lang, name=self.subject)
        return translate("Cost centre {name}", lang, name=self.subject)


def _budget(r) -> Budget:
    return Budget(
        id=r.id,
        scope=r.scope,
        subject=r.subject,
        period=r.period,
        amount=r.amount,
        currency=r.currency,
        carry_over=r.carry_over,
        thresholds=tuple(int(t) for t in r.thresholds.split(",") if t.strip()),
        time_zone=r.time_zone,
        lock_on_exhaust=r.lock_on_exhaust,
        active=r.active,
        note=r.note,
    )


def _zone_of_person(settings, row) -> str:
    if row.time_zone:
        return row.time_zone
    site = settings.site(row.site) if row.site else None
    return site.time_zone if site else settings.company.time_zone


def _members(conn: Connection, scope: str, subject: str) -> list:
    u = users
    if scope == "user":
        cond = u.c.id == subject
    elif scope == "department":
        cond = u.c.department == subject
    else:
        cond = u.c.cost_centre == subject
    return list(conn.execute(sa.select(u).where(cond, u.c.active.is_(True)).order_by(u.c.id)).all())


def default_zone(settings, conn: Connection, scope: str, subject: str) -> str:
    """The zone a new budget counts in: the person's, or the one most of the group's people share."""
    people = _members(conn, scope, subject)
    zones = Counter(_zone_of_person(settings, p) for p in people)
    return zones.most_common(1)[0][0] if zones else settings.company.time_zone


def _event(conn: Connection, budget_id: int, kind: str, *, period_start=None, actor="ringledger", **values) -> None:
    conn.execute(
        budget_event.insert().values(
            at=utcnow(), budget_id=budget_id, kind=kind, period_start=period_start, actor=actor, **values
        )
    )


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionError(f"{actor.user_id} may not assign budgets (administrators only)")


class BudgetInputError(ValueError):
    """A budget cannot be assigned as asked; `field` names the input at fault (for forms)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _validate(
    settings, scope: str, period: str, amount, currency: str, thresholds, zone: str
) -> tuple[Decimal, str, str]:
    if scope not in SCOPES:
        raise BudgetInputError("scope", f"budget scope {scope!r} is not one of {', '.join(SCOPES)}")
    if period not in PERIODS:
        raise BudgetInputError("period", f"budget period {period!r} is not one of {', '.join(PERIODS)}")
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError):
        raise BudgetInputError("amount", f"budget amount {amount!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise BudgetInputError("amount", f"budget amount {amount!r} must be more than zero")
    code = (currency or "").upper()
    if len(code) != 3 or not code.isalpha():
        raise BudgetInputError("currency", f"currency {currency!r} must be a 3-letter ISO code such as EUR")
    for t in thresholds:
        if not isinstance(t, int) or not 1 <= t <= 1000:
            raise BudgetInputError("thresholds", f"threshold {t!r} must be a whole percentage between 1 and 1000")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BudgetInputError("time_zone", f"unknown time zone {zone!r}") from None
    return value, code, zone


def assign_budget(
    settings,
    engine: Engine,
    actor: Principal,
    scope: str,
    subject: str,
    period: str,
    amount: Decimal | str | int,
    *,
    currency: str | None = None,
    carry_over: bool = False,
    thresholds: list[int] | None = None,
    time_zone: str | None = None,
    lock_on_exhaust: bool | None = None,
    note: str = "",
) -> int:
    """Give a person, department or cost centre a budget (replacing its current one); returns its id."""
    _require_admin(actor)
    now = utcnow()
    limits = sorted(set(thresholds if thresholds is not None else settings.budgets.thresholds))
    with engine.begin() as conn:
        if scope not in SCOPES:
            raise BudgetInputError("scope", f"budget scope {scope!r} is not one of {', '.join(SCOPES)}")
        if not _members(conn, scope, subject) and scope == "user":
            raise BudgetInputError("subject", f"no active user {subject!r} in the directory")
        if scope != "user" and not _members(conn, scope, subject):
            raise BudgetInputError("subject", f"no active user belongs to {scope.replace('_', ' ')} {subject!r}")
        zone = time_zone or default_zone(settings, conn, scope, subject)
        value, code, zone = _validate(
            settings, scope, period, amount, currency or settings.company.currency, limits, zone
        )
        values = {
            "period": period,
            "amount": value,
            "currency": code,
            "carry_over": carry_over,
            "thresholds": ",".join(str(t) for t in limits),
            "time_zone": zone,
            "lock_on_exhaust": settings.budgets.lock_on_exhaust if lock_on_exhaust is None else lock_on_exhaust,
            "note": note,
            "updated_at": now,
            "updated_by": actor.user_id,
        }
        existing = conn.execute(
            sa.select(budget).where(budget.c.scope == scope, budget.c.subject == subject, budget.c.active.is_(True))
        ).first()
        detail = f"{period} {value} {code}" + (", carry-over" if carry_over else "") + f", thresholds {limits}"
        if existing is not None:
            budget_id = existing.id
            conn.execute(budget.update().where(budget.c.id == budget_id).values(**values))
            if existing.period != period or existing.time_zone != zone:
                # a different period length or zone starts afresh from the current instant
                conn.execute(
                    budget_period.delete().where(
                        budget_period.c.budget_id == budget_id, budget_period.c.closed_at.is_(None)
                    )
                )
            else:
                conn.execute(
                    budget_period.update()
                    .where(budget_period.c.budget_id == budget_id, budget_period.c.closed_at.is_(None))
                    .values(base_amount=value)
                )
            _event(conn, budget_id, "changed", actor=actor.user_id, amount=value, detail=detail)
        else:
            inserted = conn.execute(
                budget.insert().values(scope=scope, subject=subject, created_at=now, created_by=actor.user_id, **values)
            ).inserted_primary_key
            assert inserted is not None
            budget_id = inserted[0]
            _event(conn, budget_id, "assigned", actor=actor.user_id, amount=value, detail=detail)
        phonelock.audit(conn, actor.user_id, "budget.assign", f"{scope}:{subject}", detail)
    return int(budget_id)


def remove_budget(settings, engine: Engine, actor: Principal, budget_id: int) -> None:
    """End a budget: it stops counting and the phones it held locked are released."""
    _require_admin(actor)
    with engine.begin() as conn:
        row = conn.execute(sa.select(budget).where(budget.c.id == budget_id)).first()
        if row is None:
            raise ValueError(f"no budget {budget_id}")
        conn.execute(budget.update().where(budget.c.id == budget_id).values(active=False, updated_at=utcnow()))
        released = _release(conn, budget_id, "budget removed")
        _event(conn, budget_id, "removed", actor=actor.user_id)
        phonelock.audit(conn, actor.user_id, "budget.remove", f"{row.scope}:{row.subject}")
    if released:
        phonelock.enforce(settings, engine, released)


def _release(conn: Connection, budget_id: int, why: str, keep: set[str] | None = None) -> list[str]:
    """Drop this budget's locks (except `keep`), with an unlock event each; returns the extensions."""
    bl = phonelock.budget_lock
    held = conn.execute(sa.select(bl.c.extension, bl.c.period_start).where(bl.c.budget_id == budget_id)).all()
    gone = [r for r in held if not keep or r.extension not in keep]
    for r in gone:
        conn.execute(bl.delete().where(bl.c.budget_id == budget_id, bl.c.extension == r.extension))
        _event(
            conn,
            budget_id,
            "unlock",
            period_start=r.period_start,
            user_id=phonelock.owner_of(conn, r.extension),
            extension=r.extension,
            detail=why,
        )
    return [r.extension for r in gone]


def budgets(engine: Engine, active: bool | None = True) -> list[Budget]:
    """Every budget (only active ones by default)."""
    q = sa.select(budget).order_by(budget.c.scope, budget.c.subject)
    if active is not None:
        q = q.where(budget.c.active.is_(active))
    with engine.connect() as conn:
        return [_budget(r) for r in conn.execute(q)]


def budget_subjects(engine: Engine, scope: str) -> list[tuple[str, str]]:
    """Who may get a budget of a scope: (subject, label) of active people, departments or cost centres."""
    u = users
    with engine.connect() as conn:
        if scope == "user":
            rows = conn.execute(sa.select(u.c.id, u.c.display_name).where(u.c.active.is_(True)).order_by(u.c.id)).all()
            return [(r.id, f"{r.id} ({r.display_name})" if r.display_name else r.id) for r in rows]
        if scope not in SCOPES:
            raise ValueError(f"budget scope {scope!r} is not one of {', '.join(SCOPES)}")
        column = u.c.department if scope == "department" else u.c.cost_centre
        values = conn.execute(
            sa.select(column).distinct().where(u.c.active.is_(True), column.is_not(None), column != "").order_by(column)
        ).scalars()
        return [(v, v) for v in values]


# --- spend ---------------------------------------------------------------------------------------------

_WINDOW_SCHEMA = pa.schema(
    [
        ("budget_id", pa.int64()),
        ("period_start", pa.timestamp("us", tz="UTC")),
        ("scope", pa.string()),
        ("subject", pa.string()),
        ("currency", pa.string()),
        ("starts_at", pa.timestamp("us", tz="UTC")),
        ("ends_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Spend:
    """What a budget period spent so far."""

    spent: Decimal = Decimal(0)
    calls: int = 0
    other_currency_calls: int = 0


def spend(settings, windows: list[tuple[Budget, datetime, datetime]]) -> dict[tuple[int, datetime], Spend]:
    """The spend of each (budget, period start, period end) window, in one query over `calls`."""
    if not windows:
        return {}
    from warehouse import views

    table = pa.Table.from_pylist(
        [
            {
                "budget_id": b.id,
                "period_start": start,
                "scope": b.scope,
                "subject": b.subject,
                "currency": b.currency,
                "starts_at": start,
                "ends_at": end,
            }
            for b, start, end in windows
        ],
        schema=_WINDOW_SCHEMA,
    )
    first = min(w[1] for w in windows)
    last = max(w[2] for w in windows)
    scope = scope_filter(phonelock.SYSTEM)
    cur = views.connect(settings)
    try:
        columns = {r[0] for r in cur.execute("describe calls").fetchall()}
        params: list = [*scope.params, first, last]
        days = ""
        if "day" in columns:
            # prune day partitions: a call starts on its UTC day
            days = "and c.day between ? and ?"
            params += [first.astimezone(UTC).date(), last.astimezone(UTC).date()]
        cur.register("budget_windows", table)
        sql = sql_text("budget_spend.sql").replace("{scope}", scope.where("c")).replace("{days}", days)
        rows = cur.execute(sql, params).fetchall()
    finally:
        cur.close()
    out: dict[tuple[int, datetime], Spend] = {}
    for budget_id, period_start, spent, calls, other in rows:
        key = (int(budget_id), period_start.astimezone(UTC))
        out[key] = Spend(Decimal(spent).quantize(Decimal("0.000001")), int(calls), int(other))
    return out


# --- evaluation ----------------------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    """What one evaluation did."""

    budgets: int = 0
    periods_opened: int = 0
    periods_closed: int = 0
    notifications: int = 0
    mails: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    unlocked: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _one_evaluation(settings) -> Iterator[None]:
    """One evaluation at a time per data home, so a threshold can never be mailed twice."""
    folder = settings.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "budgets.lock").open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _grace(settings) -> timedelta:
    return timedelta(minutes=settings.budgets.late_cdr_minutes)


def _ensure_periods(conn: Connection, settings, b: Budget, now: datetime, report: EvaluationReport) -> list:
    """Create the period rows up to the current one; return the unclosed rows, oldest first."""
    current = period_at(b.period, b.time_zone, now, settings.budgets.week_starts_on)
    bp = budget_period
    last = conn.execute(
        sa.select(bp.c.last_day).where(bp.c.budget_id == b.id).order_by(bp.c.starts_at.desc()).limit(1)
    ).scalar()
    first = current.first_day
    if last is not None:
        # go on from the last period, unless the period length, week start or zone changed since
        candidate = last + timedelta(days=1)
        start = period_starting(b.period, b.time_zone, candidate).starts_at
        if period_at(b.period, b.time_zone, start, settings.budgets.week_starts_on).first_day == candidate:
            first = candidate
    while first <= current.first_day:
        p = period_starting(b.period, b.time_zone, first)
        conn.execute(
            bp.insert().values(
                budget_id=b.id,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                first_day=p.first_day,
                last_day=p.last_day,
                base_amount=b.amount,
                carried_in=Decimal(0),
                spent=Decimal(0),
            )
        )
        report.periods_opened += 1
        first = _next_first(b.period, first)
    return list(
        conn.execute(
            sa.select(bp).where(bp.c.budget_id == b.id, bp.c.closed_at.is_(None)).order_by(bp.c.starts_at)
        ).all()
    )


@dataclass
class _Mail:
    to: list[str]
    subject: str
    html: str
    text: str
    lang: str


@dataclass
class _Notice:
    budget: Budget
    period_start: datetime
    threshold: int
    user_id: str | None
    spent: Decimal
    mails: list[_Mail]
    missing: list[str]


def evaluate(settings, engine: Engine, now: datetime | None = None) -> EvaluationReport:
    """Bring every budget up to date: periods, spend, threshold mails, budget locks (see module doc)."""
    now = now or utcnow()
    report = EvaluationReport()
    with _one_evaluation(settings):
        with engine.connect() as conn:
            active = [_budget(r) for r in conn.execute(sa.select(budget).where(budget.c.active.is_(True)))]
        report.budgets = len(active)
        unclosed: dict[int, list] = {}
        with engine.begin() as conn:
            for b in active:
                unclosed[b.id] = _ensure_periods(conn, settings, b, now, report)
            # budgets ended meanwhile let their phones go
            changed = set(_release_inactive(conn))
        spends = spend(settings, [(b, r.starts_at, r.ends_at) for b in active for r in unclosed[b.id]])
        notices: list[_Notice] = []
        for b in active:
            with engine.begin() as conn:
                locked, unlocked, found = _evaluate_one(conn, settings, b, unclosed[b.id], spends, now, report)
            report.locked += locked
            report.unlocked += unlocked
            changed.update(locked + unlocked)
            notices += found
        if changed:
            phonelock.enforce(settings, engine, sorted(changed))
        for notice in notices:
            _send_notice(settings, engine, notice, report)
    return report


def _release_inactive(conn: Connection) -> list[str]:
    bl = phonelock.budget_lock
    stale = conn.execute(
        sa.select(bl.c.budget_id)
        .distinct()
        .join(budget, budget.c.id == bl.c.budget_id)
        .where(budget.c.active.is_(False))
    ).scalars()
    released: list[str] = []
    for budget_id in list(stale):
        released += _release(conn, budget_id, "budget removed")
    return released


def _evaluate_one(
    conn: Connection, settings, b: Budget, rows: list, spends, now: datetime, report: EvaluationReport
) -> tuple[list[str], list[str], list[_Notice]]:
    bp = budget_period
    carried: dict[int, Decimal] = {}
    current = None
    for i, row in enumerate(rows):
        s = spends.get((b.id, row.starts_at), Spend())
        carried_in = row.carried_in + carried.get(row.id, Decimal(0))
        allowance = row.base_amount + carried_in
        values: dict = {
            "spent": s.spent,
            "calls": s.calls,
            "other_currency_calls": s.other_currency_calls,
            "evaluated_at": now,
            "carried_in": carried_in,
        }
        is_last = i == len(rows) - 1
        if not is_last and now >= row.ends_at + _grace(settings):
            residual = allowance - s.spent
            carry = max(residual, Decimal(0)) if b.carry_over else Decimal(0)
            values.update(closed_at=now, carried_out=carry)
            carried[rows[i + 1].id] = carried.get(rows[i + 1].id, Decimal(0)) + carry
            _event(
                conn,
                b.id,
                "period_end",
                period_start=row.starts_at,
                user_id=b.subject if b.scope == "user" else None,
                amount=s.spent,
                detail=f"spent {s.spent.normalize():f} of {allowance.normalize():f} {b.currency}",
            )
            if carry > 0:
                _event(
                    conn,
                    b.id,
                    "carry_over",
                    period_start=rows[i + 1].starts_at,
                    user_id=b.subject if b.scope == "user" else None,
                    amount=carry,
                    detail=f"{carry.normalize():f} {b.currency} carried from the period starting {row.first_day}",
                )
            report.periods_closed += 1
        conn.execute(bp.update().where(bp.c.id == row.id).values(**values))
        if is_last:
            current = (row, allowance, s.spent)
    if current is None:
        return [], [], []
    row, allowance, spent_now = current
    # thresholds: once per period each
    notices: list[_Notice] = []
    notified = set(
        conn.execute(
            sa.select(budget_notification.c.threshold).where(
                budget_notification.c.budget_id == b.id, budget_notification.c.period_start == row.starts_at
            )
        ).scalars()
    )
    for t in b.thresholds:
        if t in notified or spent_now * 100 < allowance * t:
            continue
        conn.execute(
            budget_notification.insert().values(
                budget_id=b.id, period_start=row.starts_at, threshold=t, notified_at=now
            )
        )
        notices.append(_notice(conn, settings, b, row, allowance, spent_now, t))
        report.notifications += 1
    # budget locks: held exactly while the current period is spent
    exhausted = spent_now >= allowance and b.lock_on_exhaust
    wanted: set[str] = set()
    people: dict[str, str] = {}
    if exhausted:
        members = _members(conn, b.scope, b.subject)
        for uid, exts in phonelock.current_extensions(conn, [m.id for m in members]).items():
            for ext in exts:
                wanted.add(ext)
                people[ext] = uid
    bl = phonelock.budget_lock
    held = {r.extension: r.period_start for r in conn.execute(sa.select(bl).where(bl.c.budget_id == b.id))}
    locked: list[str] = []
    for ext in sorted(wanted - set(held)):
        conn.execute(bl.insert().values(extension=ext, budget_id=b.id, period_start=row.starts_at, locked_at=now))
        _event(
            conn,
            b.id,
            "lock",
            period_start=row.starts_at,
            user_id=people[ext],
            extension=ext,
            amount=spent_now,
            detail=f"spent {spent_now.normalize():f} of {allowance.normalize():f} {b.currency}",
        )
        locked.append(ext)
    for ext in wanted & set(held):
        if held[ext] != row.starts_at:
            conn.execute(
                bl.update().where(bl.c.budget_id == b.id, bl.c.extension == ext).values(period_start=row.starts_at)
            )
    why = "new period" if any(p != row.starts_at for p in held.values()) else "budget no longer spent"
    unlocked = _release(conn, b.id, why, keep=wanted)
    return locked, unlocked, notices


def _language_of(settings, person) -> str:
    if person.language:
        return person.language
    site = settings.site(person.site) if person.site else None
    return site.language if site else settings.company.language


def _notice(conn: Connection, settings, b: Budget, row, allowance: Decimal, spent_now: Decimal, t: int) -> _Notice:
    """The threshold mails: the person and their manager, or a group's managers (and people, when locked)."""
    members = _members(conn, b.scope, b.subject)
    locking = t >= 100 and b.lock_on_exhaust and spent_now >= allowance
    about: dict[str, str] = {}  # recipient id -> the person the mail is about ("" = the group)
    if b.scope == "user":
        for m in members:
            about[m.id] = ""
            if settings.budgets.notify_manager and m.manager_id:
                about.setdefault(m.manager_id, m.display_name or m.id)
    else:
        if settings.budgets.notify_manager:
            for m in members:
                if m.manager_id:
                    about.setdefault(m.manager_id, "")
        if locking or not about:
            for m in members:
                about.setdefault(m.id, "")
    recipients = (
        conn.execute(sa.select(users).where(users.c.id.in_(list(about)), users.c.active.is_(True))).all()
        if about
        else []
    )
    mails: list[_Mail] = []
    missing: list[str] = []
    for person in recipients:
        if not person.email:
            missing.append(person.id)
            continue
        lang = _language_of(settings, person)
        mails.append(_compose(b, row, allowance, spent_now, t, locking, person, about[person.id], lang))
    return _Notice(b, row.starts_at, t, b.subject if b.scope == "user" else None, spent_now, mails, missing)


def _compose(b: Budget, row, allowance, spent_now, t, locking, person, about_name, lang) -> _Mail:
    import html as html_lib

    name = b.label(lang)
    pct = int(spent_now * 100 / allowance) if allowance else 100
    subject = (
        translate("{budget}: budget spent, phone locked", lang, budget=name)
        if locking
        else translate("{budget}: {pct}% of the budget used", lang, budget=name, pct=t)
    )
    money = lambda v: lock_texts.money(v, b.currency, lang)  # noqa: E731
    until = lock_texts.day(row.last_day, lang)
    lines = [
        translate("Hello {name},", lang, name=person.display_name or person.id),
        translate(
            "{pct}% of the {period} budget \u201c{budget}\u201d has been used.",
            lang,
            pct=pct,
            period=translate(b.period, lang),
            budget=name,
        ),
    ]
    if about_name:
        lines.append(translate("This message is about {person}.", lang, person=about_name))
    facts = [
        (translate("Budget", lang), money(allowance)),
        (translate("Spent", lang), money(spent_now)),
        (translate("Remaining", lang), money(max(allowance - spent_now, Decimal(0)))),
        (translate("Period", lang), f"{lock_texts.day(row.first_day, lang)} \u2013 {until}"),
    ]
    closing = translate("Outgoing calls are blocked until {until}; emergency numbers still work.", lang, until=until)
    text = "\n\n".join(lines) + "\n\n" + "\n".join(f"{k}: {v}" for k, v in facts) + "\n"
    if locking:
        text += "\n" + closing + "\n"
    direction = ' dir="rtl"' if lock_texts.language(lang) == "ar" else ""
    esc = html_lib.escape
    html = (
        f"<html><body{direction}>"
        + "".join(f"<p>{esc(line)}</p>" for line in lines)
        + "<table>"
        + "".join(f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
        + "</table>"
        + (f"<p><strong>{esc(closing)}</strong></p>" if locking else "")
        + "</body></html>"
    )
    return _Mail([person.email], subject, html, text, lang)


def _send_notice(settings, engine: Engine, notice: _Notice, report: EvaluationReport) -> None:
    sent: list[str] = []
    errors: list[str] = []
    for m in notice.mails:
        try:
            report.mails.append(mail.send(settings, engine, m.to, m.subject, m.html, m.text, category="budget"))
            sent += m.to
        except mail.MailError as exc:
            errors.append(str(exc))
    detail = ("mailed to " + ", ".join(sent)) if sent else "no mail sent"
    if notice.missing:
        detail += "; no mail address for " + ", ".join(notice.missing)
    if errors:
        detail += "; " + "; ".join(errors)
    with engine.begin() as conn:
        _event(
            conn,
            notice.budget.id,
            "notification",
            period_start=notice.period_start,
            user_id=notice.user_id,
            amount=notice.spent,
            threshold=notice.threshold,
            detail=detail,
        )


def next_due(settings, engine: Engine, now: datetime | None = None) -> datetime | None:
    """When evaluate() must run next without new calls: a period boundary, or a period to close."""
    now = now or utcnow()
    bp = budget_period
    with engine.connect() as conn:
        unstarted = conn.execute(
            sa.select(sa.func.count())
            .select_from(budget)
            .where(
                budget.c.active.is_(True),
                ~sa.exists(sa.select(bp.c.id).where(bp.c.budget_id == budget.c.id, bp.c.closed_at.is_(None))),
            )
        ).scalar()
        if unstarted:
            return now
        rows = conn.execute(
            sa.select(bp.c.budget_id, bp.c.ends_at)
            .join(budget, budget.c.id == bp.c.budget_id)
            .where(budget.c.active.is_(True), bp.c.closed_at.is_(None))
        ).all()
    if not rows:
        return None
    latest: dict[int, datetime] = {}
    for budget_id, ends_at in rows:
        latest[budget_id] = max(latest.get(budget_id, ends_at), ends_at)
    due: list[datetime] = []
    for budget_id, ends_at in rows:
        # the current period's end opens the next; an older one closes after the grace time
        due.append(ends_at if ends_at == latest[budget_id] else ends_at + _grace(settings))
    return min(due)


def state_token(engine: Engine) -> str:
    """Changes whenever budgets are assigned, changed or removed (cheap; for sensors)."""
    with engine.connect() as conn:
        count, newest = conn.execute(sa.select(sa.func.count(), sa.func.max(budget.c.updated_at))).one()
    return f"{count}:{newest.isoformat() if newest else ''}"


# --- what the pages show ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetStatus:
    """A budget and its current period, as 'My budgets' and the admin overview show it."""

    budget: Budget
    name: str
    period_start: datetime
    period_end: datetime
    first_day: date
    until: date  # the period's last local day
    base_amount: Decimal
    carried_in: Decimal
    allowance: Decimal
    spent: Decimal
    remaining: Decimal
    percent: int
    exhausted: bool
    evaluated_at: datetime | None
    phones: dict[str, phonelock.LockState]


def _status(settings, conn: Connection, b: Budget, now: datetime, lang: str, extensions) -> BudgetStatus:
    current = period_at(b.period, b.time_zone, now, settings.budgets.week_starts_on)
    bp = budget_period
    row = conn.execute(sa.select(bp).where(bp.c.budget_id == b.id, bp.c.starts_at == current.starts_at)).first()
    base = row.base_amount if row else b.amount
    carried = row.carried_in if row else Decimal(0)
    spent = row.spent if row else Decimal(0)
    allowance = base + carried
    return BudgetStatus(
        budget=b,
        name=b.label(lang),
        period_start=current.starts_at,
        period_end=current.ends_at,
        first_day=current.first_day,
        until=current.last_day,
        base_amount=base,
        carried_in=carried,
        allowance=allowance,
        spent=spent,
        remaining=max(allowance - spent, Decimal(0)),
        percent=int(spent * 100 / allowance) if allowance else 0,
        exhausted=spent >= allowance,
        evaluated_at=row.evaluated_at if row else None,
        phones=phonelock.lock_states(conn, extensions),
    )


def my_budgets(settings, engine: Engine, principal: Principal, now: datetime | None = None) -> list[BudgetStatus]:
    """The budgets that apply to the person (own, department, cost centre) with their current period."""
    now = now or utcnow()
    with engine.connect() as conn:
        me = conn.execute(sa.select(users).where(users.c.id == principal.user_id)).first()
        if me is None:
            return []
        conds = [sa.and_(budget.c.scope == "user", budget.c.subject == me.id)]
        if me.department:
            conds.append(sa.and_(budget.c.scope == "department", budget.c.subject == me.department))
        if me.cost_centre:
            conds.append(sa.and_(budget.c.scope == "cost_centre", budget.c.subject == me.cost_centre))
        rows = conn.execute(sa.select(budget).where(budget.c.active.is_(True), sa.or_(*conds)).order_by(budget.c.id))
        mine = [_budget(r) for r in rows]
        return [_status(settings, conn, b, now, principal.language, principal.extensions) for b in mine]


def budget_overview(settings, engine: Engine, actor: Principal, now: datetime | None = None) -> list[BudgetStatus]:
    """Every budget the actor administers, with its current period (administrators: all)."""
    if actor.role not in ("administrator", "supervisor"):
        raise PermissionError(f"{actor.user_id} may not see other people's budgets")
    now = now or utcnow()
    with engine.connect() as conn:
        all_active = [_budget(r) for r in conn.execute(sa.select(budget).where(budget.c.active.is_(True)))]
        out = []
        for b in all_active:
            members = _members(conn, b.scope, b.subject)
            if not actor.is_admin and not any(
                m.department in actor.departments or m.cost_centre in actor.cost_centres for m in members
            ):
                continue
            exts = [e for v in phonelock.current_extensions(conn, [m.id for m in members]).values() for e in v]
            out.append(_status(settings, conn, b, now, actor.language, exts))
    return out


@dataclass(frozen=True)
class BudgetEvent:
    """One line of the History page."""

    at: datetime
    budget_id: int
    budget_name: str
    kind: str
    period_start: datetime | None
    user_id: str | None
    extension: str | None
    amount: Decimal | None
    currency: str
    threshold: int | None
    detail: str
    actor: str


def budget_history(
    settings, engine: Engine, principal: Principal, budget_id: int | None = None, limit: int = 200
) -> list[BudgetEvent]:
    """Every action on the budgets the person may see, newest first.

    A person sees their own budget's events and, of their department's or cost centre's budgets,
    the events about the group or about them; supervisors also see the budgets of their people;
    administrators see everything.
    """
    be = budget_event
    q = (
        sa.select(be, budget.c.scope, budget.c.subject, budget.c.period, budget.c.currency)
        .join(budget, budget.c.id == be.c.budget_id)
        .order_by(be.c.at.desc(), be.c.id.desc())
        .limit(limit)
    )
    if budget_id is not None:
        q = q.where(be.c.budget_id == budget_id)
    if not principal.is_admin:
        with engine.connect() as conn:
            me = conn.execute(sa.select(users).where(users.c.id == principal.user_id)).first()
        own = [sa.and_(budget.c.scope == "user", budget.c.subject == principal.user_id)]
        about_me_or_group = sa.or_(be.c.user_id.is_(None), be.c.user_id == principal.user_id)
        if me is not None and me.department:
            own.append(sa.and_(budget.c.scope == "department", budget.c.subject == me.department, about_me_or_group))
        if me is not None and me.cost_centre:
            own.append(sa.and_(budget.c.scope == "cost_centre", budget.c.subject == me.cost_centre, about_me_or_group))
        if principal.role == "supervisor":
            own.append(sa.and_(budget.c.scope == "department", budget.c.subject.in_(principal.departments)))
            own.append(sa.and_(budget.c.scope == "cost_centre", budget.c.subject.in_(principal.cost_centres)))
            staff = sa.select(users.c.id).where(
                sa.or_(users.c.department.in_(principal.departments), users.c.cost_centre.in_(principal.cost_centres))
            )
            own.append(sa.and_(budget.c.scope == "user", budget.c.subject.in_(staff)))
        q = q.where(sa.or_(*own))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        b = Budget(r.budget_id, r.scope, r.subject, r.period, Decimal(0), r.currency, False, (), "UTC", True, True, "")
        out.append(
            BudgetEvent(
                at=r.at,
                budget_id=r.budget_id,
                budget_name=b.label(principal.language),
                kind=r.kind,
                period_start=r.period_start,
                user_id=r.user_id,
                extension=r.extension,
                amount=r.amount,
                currency=r.currency,
                threshold=r.threshold,
                detail=r.detail,
                actor=r.actor,
            )
        )
    return out


def costed_calls(settings, principal: Principal, since: datetime, limit: int = 20) -> list[dict]:
    """The person's latest calls with a cost since a time (budget gadget), scoped and with numbers masked."""
    from warehouse import views

    scope = scope_filter(principal)
    cur = views.connect(settings)
    try:
        rel = cur.execute(
            f"""
            select c.started_at, c.extension, c.other_number, c.destination_type, c.duration_s, c.cost, c.currency
            from calls as c
            where {scope.where("c")}
              and c.billable
              and c.cost is not null
              and c.started_at >= ?
            order by c.started_at desc
            limit ?
            """,
            [*scope.params, since, limit],
        )
        names = [d[0] for d in rel.description]
        rows = [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    finally:
        cur.close()
    return mask_result(settings, principal, rows)
