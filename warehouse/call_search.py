"""A person's calls with filters and pages (the JSON API, the gadgets), and their outgoing calls by hour.

`search_calls()` reads `my_calls` (the person's scope, `warehouse.access`), so a filter can only
narrow what the person may see: asking for a colleague's extension gives no rows. Pages are keyed
(newest first; the cursor names the last row seen), so a page never repeats or skips a row while new
calls arrive, and each page says how many rows match in all. Dates are local days in the person's
zone. Outside numbers come back masked for the person's role, and `number` matches only the digits
the person can see, so the filter cannot be used to guess the hidden ones.
"""

from __future__ import annotations

import base64
import json
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources

from warehouse.access import Principal, mask_digits, mask_result, scoped_query
from warehouse.querytext import strip_comments
from warehouse.reports.filters import local_midnight_utc

DIRECTIONS = ("outgoing", "incoming", "internal", "tandem")
# The person's side of a call: what they placed, what reached them, what reached them unanswered.
SIDES = ("outgoing", "incoming", "missed")
STATUSES = ("answered", "missed")
MAX_LIMIT = 500
# Columns a call row has (API and gadget), in order.
COLUMNS = (
    "call_id",
    "leg_id",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "ring_s",
    "direction",
    "leg_role",
    "answered",
    "missed",
    "extension",
    "user_id",
    "user_name",
    "department",
    "cost_centre",
    "site",
    "other_number",
    "e164",
    "gateway",
    "nation",
    "area",
    "destination_type",
    "operator",
    "cost",
    "currency",
    "hunt_pilot",
    "transferred",
    "forwarded",
    "mos",
)
_SIDE_SQL = {
    "outgoing": "(c.direction = 'outgoing' or (c.direction = 'internal' and c.leg_role = 'caller'))",
    "incoming": "(c.direction = 'incoming' or (c.direction = 'internal' and c.leg_role = 'callee'))",
    "missed": "(c.missed and c.leg_role = 'callee')",
}
_STATUS_SQL = {"answered": "c.answered", "missed": "c.missed"}


class SearchError(ValueError):
    """A filter is wrong; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class CallQuery:
    """What to look for; every part optional. Dates are local days (inclusive) in `zone`."""

    date_from: date | None = None
    date_to: date | None = None
    direction: str | None = None
    side: str | None = None
    extension: str | None = None
    number: str | None = None
    status: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass
class CallPage:
    """One page of calls, newest first: rows (dicts of COLUMNS), the total that match, the next cursor."""

    rows: list[dict]
    total: int
    next_cursor: str | None
    zone: str
    date_from: date | None
    date_to: date | None
    filters: dict = field(default_factory=dict)


def encode_cursor(started_at: datetime, leg_id: str, extension: str) -> str:
    """The opaque cursor after a row."""
    raw = json.dumps([started_at.astimezone(UTC).isoformat(), leg_id, extension], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str, str]:
    """The row a cursor names; SearchError when it is not one this service made."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, leg, ext = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        started = datetime.fromisoformat(when)
        if started.tzinfo is None or not isinstance(leg, str) or not isinstance(ext, str):
            raise ValueError("incomplete")
        return started, leg, ext
    except (ValueError, TypeError, UnicodeError):
        raise SearchError("cursor", "cursor is not one this service handed out (use next_cursor as given)") from None


def _check(q: CallQuery) -> None:
    if q.direction is not None and q.direction not in DIRECTIONS:
        raise SearchError("direction", f"direction must be one of {', '.join(DIRECTIONS)}")
    if q.side is not None and q.side not in SIDES:
        raise SearchError("side", f"side must be one of {', '.join(SIDES)}")
    if q.status is not None and q.status not in STATUSES:
        raise SearchError("status", f"status must be one of {', '.join(STATUSES)}")
    if not isinstance(q.limit, int) or not 1 <= q.limit <= MAX_LIMIT:
        raise SearchError("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    if q.date_from and q.date_to and q.date_to < q.date_from:
        raise SearchError("to", f"to ({q.date_to}) is before from ({q.date_from})")
    if q.number is not None and (not q.number or len(q.number) > 32 or not q.number.lstrip("+").isdigit()):
        raise SearchError("number", "number must be 1 to 32 digits (a leading + allowed)")
    if q.extension is not None and (not q.extension or len(q.extension) > 64):
        raise SearchError("extension", "extension must be 1 to 64 characters")


def _where(settings, principal: Principal, q: CallQuery, zone: str) -> tuple[list[str], list]:
    parts = ["c.counted"]
    params: list = []
    if q.date_from is not None:
        start = local_midnight_utc(q.date_from, zone)
        # `day` is the UTC day partition: naming it skips every earlier day's files
        parts += ["c.day >= ?", "c.started_at >= ?"]
        params += [start.date(), start]
    if q.date_to is not None:
        end = local_midnight_utc(q.date_to + timedelta(days=1), zone)
        parts += ["c.day <= ?", "c.started_at < ?"]
        params += [(end - timedelta(microseconds=1)).date(), end]
    if q.direction is not None:
        parts.append("c.direction = ?")
        params.append(q.direction)
    if q.side is not None:
        parts.append(_SIDE_SQL[q.side])
    if q.status is not None:
        parts.append(_STATUS_SQL[q.status])
    if q.extension is not None:
        parts.append("c.extension = ?")
        params.append(q.extension)
    if q.number is not None:
        # only the digits the person sees: masked digits of outside numbers are cut off before matching
        hidden = mask_digits(settings, principal.role)
        parts.append(
            "contains(case when c.direction = 'internal' then c.other_number "
            "else left(c.other_number, greatest(length(c.other_number) - ?, 0)) end, ?)"
        )
        params += [hidden, q.number]
    return parts, params


def person_zone(settings, principal: Principal) -> str:
    """The zone a person's dates are read in: theirs, else the company's."""
    for zone in (principal.time_zone, settings.company.time_zone):
        try:
            zoneinfo.ZoneInfo(zone)
            return zone
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def search_calls(settings, principal: Principal, q: CallQuery, *, con=None) -> CallPage:
    """One page of the person's calls matching the query (scoped, numbers masked), newest first."""
    import warehouse

    _check(q)
    zone = person_zone(settings, principal)
    parts, params = _where(settings, principal, q, zone)
    con = con or warehouse.connect(settings)
    total = int(
        scoped_query(
            con, principal, f"select count(*) from my_calls as c where {' and '.join(parts)}", params
        ).fetchall()[0][0]
    )
    page_parts, page_params = list(parts), list(params)
    if q.cursor:
        started, leg, ext = decode_cursor(q.cursor)
        page_parts.append(
            "(c.started_at < ? or (c.started_at = ? and "
            "(c.leg_id < ? or (c.leg_id = ? and coalesce(c.extension, '') < ?))))"
        )
        page_params += [started, started, leg, leg, ext]
    columns = ", ".join(f"c.{name}" for name in COLUMNS)
    sql = (
        f"select {columns} from my_calls as c where {' and '.join(page_parts)} "
        "order by c.started_at desc, c.leg_id desc, coalesce(c.extension, '') desc limit ?"
    )
    found = scoped_query(con, principal, sql, [*page_params, q.limit + 1]).fetchall()
    more = len(found) > q.limit
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in found[: q.limit]]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(last["started_at"], last["leg_id"] or "", last["extension"] or "")
    return CallPage(
        rows=mask_result(settings, principal, rows),
        total=total,
        next_cursor=next_cursor,
        zone=zone,
        date_from=q.date_from,
        date_to=q.date_to,
    )


def side_of(row: dict) -> str:
    """The person's side of a call row: 'outgoing', 'incoming' or 'missed' (an incoming call nobody took)."""
    if row.get("missed") and row.get("leg_role") == "callee":
        return "missed"
    if row.get("direction") == "outgoing" or (row.get("direction") == "internal" and row.get("leg_role") == "caller"):
        return "outgoing"
    if row.get("leg_role") == "forwarder":
        return "outgoing"
    return "incoming"


@dataclass(frozen=True)
class Activity:
    """Outgoing calls in one bucket of the chart: its label key (an hour or a day), calls, seconds, cost."""

    key: datetime | date
    calls: int
    duration_s: int
    cost: Decimal | None


@dataclass
class OutgoingActivity:
    """The chart's three views: today and yesterday per hour, the last 7 days per day (local time)."""

    zone: str
    today: date
    currency: str
    hours_today: list[Activity]
    hours_yesterday: list[Activity]
    days: list[Activity]


def outgoing_activity(settings, principal: Principal, *, now: datetime | None = None, con=None) -> OutgoingActivity:
    """The person's outgoing calls today and yesterday per hour and over the last 7 days per day."""
    import warehouse

    zone = person_zone(settings, principal)
    now = now or datetime.now(UTC)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    first = today - timedelta(days=6)
    since = local_midnight_utc(first, zone)
    sql = resources.files("warehouse").joinpath("sql", "outgoing_by_hour.sql").read_text(encoding="utf-8")
    text = strip_comments(sql)
    con = con or warehouse.connect(settings)
    rows = scoped_query(con, principal, text, {"zone": zone, "since": since, "first_day": since.date()}).fetchall()
    by_hour: dict[datetime, tuple[int, int, Decimal | None]] = {}
    currency = settings.company.currency
    for local_hour, calls, seconds, cost, cur in rows:
        by_hour[local_hour] = (int(calls), int(seconds or 0), cost)
        currency = cur or currency

    def hours(day: date) -> list[Activity]:
        out = []
        for h in range(24):
            key = datetime(day.year, day.month, day.day, h)
            calls, seconds, cost = by_hour.get(key, (0, 0, None))
            out.append(Activity(key, calls, seconds, cost))
        return out

    days = []
    for i in range(7):
        day = first + timedelta(days=i)
        picked = [v for k, v in by_hour.items() if k.date() == day]
        costs = [c for _n, _s, c in picked if c is not None]
        cost = sum(costs, Decimal(0)) if costs else None
        days.append(Activity(day, sum(n for n, _s, _c in picked), sum(s for _n, s, _c in picked), cost))
    return OutgoingActivity(zone, today, currency, hours(today), hours(today - timedelta(days=1)), days)
