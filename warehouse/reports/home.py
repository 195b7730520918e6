"""Home page data (H1-H5): a person's last calls and this month's summary, fast at any lake size.

Both read only the person's own extensions. The last calls are looked for in widening windows (the
last day, week, month, year, then everything); each window names its UTC day partitions, so a
person who called today costs one partition's scan, not the whole history.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources

from warehouse.access import Principal, mask_digits, mask_number, scope_filter
from warehouse.i18n import N_
from warehouse.reports.engine import own_scope
from warehouse.reports.filters import Params, local_midnight_utc, scope_sql

WINDOWS_DAYS = (2, 40, 400, None)  # None: all history

# Call type of a Home row (H2) and its label.
CALL_TYPES = {
    "incoming": N_("Incoming call"),
    "outgoing": N_("Outgoing call"),
    "missed_incoming": N_("Missed incoming call"),
    "missed_outgoing": N_("Unanswered outgoing call"),
    "internal": N_("Internal call"),
}
INTERNAL_GATEWAY = N_("Internal calls")


@dataclass(frozen=True)
class HomeCall:
    """One row of Home's last calls; `number` is masked, `real_number` stays on the server."""

    started_at: datetime  # UTC
    call_type: str  # key of CALL_TYPES
    extension: str
    user_name: str
    number: str
    real_number: str
    duration_s: int
    cost: Decimal | None
    currency: str
    gateway: str  # '' for internal calls (shown as "Internal calls")
    internal: bool


@dataclass(frozen=True)
class MonthSummary:
    """H5: this local month's cost, calls, average duration and ring time; missed calls today."""

    month_start: date
    cost: Decimal | None
    currency: str
    calls: int
    avg_duration_s: float | None
    avg_ring_s: float | None
    missed_today: int


def _sql(name: str) -> str:
    text = resources.files("warehouse.reports").joinpath("sql", name).read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def call_type(direction: str, leg_role: str, answered: bool) -> str:
    """The Home icon of a call row: incoming, outgoing, missed incoming/outgoing or internal."""
    if not answered:
        return "missed_outgoing" if leg_role == "caller" else "missed_incoming"
    if direction == "internal":
        return "internal"
    return "outgoing" if direction == "outgoing" or leg_role in ("caller", "forwarder") else "incoming"


def last_calls_query(principal: Principal, limit: int, since: datetime | None) -> tuple[str, dict]:
    """The SQL and parameters of one window of the last-calls lookup (the benchmark runs it too)."""
    params = Params()
    scope = scope_sql(scope_filter(own_scope(principal)), params)
    since = since or datetime(1970, 1, 1, tzinfo=UTC)
    params.values["since_day"] = since.date()
    params.values["since"] = since
    params.values["limit"] = limit
    return _sql("home_last_calls.sql").replace("{{scope}}", scope), params.values


def last_calls(settings, principal: Principal, limit: int = 20, *, now: datetime | None = None, con=None):
    """The person's newest `limit` calls (own extensions), numbers masked for their role."""
    import warehouse

    now = now or datetime.now(UTC)
    con = con or warehouse.connect(settings)
    rows: list = []
    for days in WINDOWS_DAYS:
        since = None if days is None else now - timedelta(days=days)
        sql, params = last_calls_query(principal, limit, since)
        rows = con.execute(sql, params).fetchall()
        if len(rows) >= limit:
            break
    hidden = mask_digits(settings, principal.role)
    out = []
    for r in rows:
        (
            started_at,
            direction,
            leg_role,
            answered,
            _missed,
            extension,
            user_name,
            other,
            duration,
            _ring,
            cost,
            currency,
            gateway,
        ) = r
        internal = direction == "internal"
        out.append(
            HomeCall(
                started_at=started_at,
                call_type=call_type(direction, leg_role, bool(answered)),
                extension=extension or "",
                user_name=user_name or "",
                number=(other or "") if internal else (mask_number(other, hidden) or ""),
                real_number=other or "",
                duration_s=int(duration or 0),
                cost=cost,
                currency=currency or settings.company.currency,
                gateway="" if internal else (gateway or ""),
                internal=internal,
            )
        )
    return out


def summary_query(principal: Principal, zone: str, now: datetime) -> tuple[str, dict, date]:
    """The SQL and parameters of the month summary in the person's zone."""
    params = Params()
    scope = scope_sql(scope_filter(own_scope(principal)), params)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    first = today.replace(day=1)
    month_start = local_midnight_utc(first, zone)
    params.values["month_day"] = month_start.date()
    params.values["month_start"] = month_start
    params.values["today_start"] = local_midnight_utc(today, zone)
    return _sql("home_summary.sql").replace("{{scope}}", scope), params.values, first


def month_summary(settings, principal: Principal, zone: str, *, now: datetime | None = None, con=None) -> MonthSummary:
    """This local month's totals for the person's own extensions (H5)."""
    import warehouse

    now = now or datetime.now(UTC)
    con = con or warehouse.connect(settings)
    sql, params, first = summary_query(principal, zone, now)
    cost, currency, calls, avg_duration, avg_ring, missed_today = con.execute(sql, params).fetchall()[0]
    return MonthSummary(
        month_start=first,
        cost=cost,
        currency=currency or settings.company.currency,
        calls=int(calls or 0),
        avg_duration_s=avg_duration,
        avg_ring_s=avg_ring,
        missed_today=int(missed_today or 0),
    )
