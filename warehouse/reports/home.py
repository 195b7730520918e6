"""Home page data (H1-H5): a person's last calls and this month's summary, fast at any lake size.

Both read only the person's own extensions. Reading a year of day partitions for a quiet line costs
about a millisecond per partition, so Home keeps an index in the warehouse's DuckDB database, built
from the calls files the first time it is needed and brought up to date with the lake's manifests
(files added are indexed, files dropped are forgotten):
- `home_days`: per calls file, UTC day and extension, the totals of the month summary;
- `home_recent`: the newest 200 calls of every extension (the most Home shows).
The last calls come from `home_recent`; the summary adds the day totals of the whole UTC days in the
month to a scan of the one or two partial days at its edges. Where the index cannot answer exactly
(an extension that changed hands, a day rebuilt with fewer calls) Home reads the day partitions that
hold the person's calls, which gives the same answer more slowly.
"""

from __future__ import annotations

import threading
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources

import duckdb

from warehouse.access import Principal, mask_digits, mask_number, scope_filter
from warehouse.i18n import N_
from warehouse.querytext import strip_comments
from warehouse.reports.engine import own_scope
from warehouse.reports.filters import Params, local_midnight_utc, scope_sql

DAYS_TABLE = "home_days"
RECENT_TABLE = "home_recent"
FILES_TABLE = "home_files"
KEEP = 200  # newest calls kept per extension: the most Home shows
_index_lock = threading.Lock()
_fresh: dict[str, tuple] = {}  # lake -> the manifest state the index was last brought up to
_RECENT_COLUMNS = (
    "started_at, day, extension, direction, leg_role, answered, missed, other_number, duration_s, ring_s, "
    "cost, currency, gateway"
)

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
    return strip_comments(resources.files("warehouse.reports").joinpath("sql", name).read_text(encoding="utf-8"))


def call_type(direction: str, leg_role: str, answered: bool) -> str:
    """The Home icon of a call row: incoming, outgoing, missed incoming/outgoing or internal."""
    if not answered:
        return "missed_outgoing" if leg_role == "caller" else "missed_incoming"
    if direction == "internal":
        return "internal"
    return "outgoing" if direction == "outgoing" or leg_role in ("caller", "forwarder") else "incoming"


def _day_list(days: list[date], params: Params) -> str:
    # a day that cannot exist keeps the list valid (and empty) when the person has no calls
    return ", ".join(params.add(d, "d") for d in days) if days else params.add(date(1, 1, 1), "d")


def refresh_index(settings, con) -> None:
    """Bring Home's index (in the connection's database) up to the lake's calls files."""
    from warehouse.lake import Lake

    lake = Lake(settings.lake_dir)
    token = lake.state_token()
    key = str(settings.lake_dir)
    if _fresh.get(key) == token:
        try:
            con.execute(f"SELECT 1 FROM {FILES_TABLE} LIMIT 1")
            return
        except duckdb.CatalogException:
            pass  # a new warehouse database for the same lake: build the index again
    files = {str(f) for f in lake.files("calls")}
    with _index_lock:
        con.execute(f"CREATE TABLE IF NOT EXISTS {FILES_TABLE} (file VARCHAR PRIMARY KEY)")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {DAYS_TABLE} (file VARCHAR, day DATE, extension VARCHAR, calls BIGINT, "
            "cost DECIMAL(38, 6), currency VARCHAR, answered BIGINT, answered_duration_s BIGINT, offered BIGINT, "
            "offered_ring_s BIGINT)"
        )
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {RECENT_TABLE} (file VARCHAR, started_at TIMESTAMPTZ, day DATE, "
            "extension VARCHAR, direction VARCHAR, leg_role VARCHAR, answered BOOLEAN, missed BOOLEAN, "
            "other_number VARCHAR, duration_s INTEGER, ring_s INTEGER, cost DECIMAL(18, 6), currency VARCHAR, "
            "gateway VARCHAR)"
        )
        known = {r[0] for r in con.execute(f"SELECT file FROM {FILES_TABLE}").fetchall()}
        gone = sorted(known - files)
        for table in (DAYS_TABLE, RECENT_TABLE, FILES_TABLE):
            if gone:
                con.execute(f"DELETE FROM {table} WHERE list_contains($files, file)", {"files": gone})
        new = sorted(files - known)
        _fresh[key] = token
        if not new:
            return
        source = (
            "read_parquet($files, union_by_name = true, hive_partitioning = true, filename = true) "
            "WHERE counted AND extension IS NOT NULL"
        )
        con.execute(
            f"INSERT INTO {DAYS_TABLE} SELECT filename, day, extension, count(*), sum(cost), min(currency), "
            "count(*) FILTER (WHERE answered), sum(duration_s) FILTER (WHERE answered), "
            "count(*) FILTER (WHERE leg_role = 'callee'), sum(ring_s) FILTER (WHERE leg_role = 'callee') "
            f"FROM {source} GROUP BY ALL ORDER BY 2, 3",
            {"files": new},
        )
        # the newest KEEP calls of each extension in the new files (a bounded top-N per group)
        con.execute(
            f"INSERT INTO {RECENT_TABLE} SELECT unnest(top, recursive := true) FROM ("
            f"SELECT max_by(struct_pack(file := filename, {_RECENT_COLUMNS}), started_at, {KEEP}) AS top "
            f"FROM {source} GROUP BY extension)",
            {"files": new},
        )
        # and of all of them together: older calls beyond the newest KEEP are dropped
        con.execute(
            f"DELETE FROM {RECENT_TABLE} WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER "
            f"(PARTITION BY extension ORDER BY started_at DESC) AS n FROM {RECENT_TABLE}) WHERE n > {KEEP})"
        )
        con.execute(f"INSERT INTO {FILES_TABLE} SELECT unnest($files)", {"files": new})


def days_with_calls(settings, con, principal: Principal, since: date | None = None) -> list[tuple[date, int]]:
    """The UTC days (from `since` on) holding calls of the person's own extensions, newest first, with counts."""
    extensions = _extensions(principal)
    if not extensions:
        return []
    refresh_index(settings, con)
    return [
        (r[0], int(r[1]))
        for r in con.execute(
            f"SELECT day, sum(calls) FROM {DAYS_TABLE} WHERE list_contains($extensions, extension) "
            "AND day >= $since GROUP BY day ORDER BY day DESC",
            {"extensions": extensions, "since": since or date(1, 1, 1)},
        ).fetchall()
    ]


def _extensions(principal: Principal) -> list[str]:
    return sorted({a.extension for a in own_scope(principal).assignments if a.extension})


def _unbounded(principal: Principal) -> bool:
    """True when every extension of the person has been theirs all along (the index then answers exactly)."""
    return all(a.valid_from is None and a.valid_to is None for a in principal.assignments)


def recent_query(principal: Principal, limit: int) -> tuple[str, dict]:
    """The last calls from the index of newest calls (with the extension's owner joined as the view does)."""
    params = Params()
    scope = scope_sql(scope_filter(own_scope(principal)), params)
    params.values["limit"] = limit
    sql = _sql("home_recent_calls.sql").replace("{{scope}}", scope)
    return sql, params.values


def last_calls_query(principal: Principal, limit: int, days: list[date]) -> tuple[str, dict]:
    """The SQL and parameters of the last calls read from these day partitions (the benchmark runs it too)."""
    params = Params()
    scope = scope_sql(scope_filter(own_scope(principal)), params)
    day_list = _day_list(days, params)
    params.values["limit"] = limit
    sql = _sql("home_last_calls.sql").replace("{{scope}}", scope).replace("{{days}}", day_list)
    return sql, params.values


def pick_days(days: list[tuple[date, int]], limit: int) -> list[date]:
    """The newest days that together hold at least `limit` calls (all of them when they hold fewer)."""
    picked: list[date] = []
    total = 0
    for day, calls in days:
        picked.append(day)
        total += calls
        if total >= limit:
            break
    return picked


def last_calls(settings, principal: Principal, limit: int = 20, *, now: datetime | None = None, con=None):
    """The person's newest `limit` calls (own extensions), numbers masked for their role."""
    import warehouse

    if not _extensions(principal):
        return []
    con = con or warehouse.connect(settings)
    rows: list = []
    if limit <= KEEP and _unbounded(principal):
        refresh_index(settings, con)
        rows = con.execute(*recent_query(principal, limit)).fetchall()
        if len(rows) >= limit:
            return _home_calls(settings, principal, rows)
    days = days_with_calls(settings, con, principal)
    total = sum(n for _d, n in days)
    want = limit
    while len(rows) < min(limit, total):
        # the index could not answer (see the module's notes): read the day partitions instead
        picked = pick_days(days, want)
        rows = con.execute(*last_calls_query(principal, limit, picked)).fetchall()
        # an extension that changed hands has calls that are not the person's: read further back
        if len(rows) >= limit or len(picked) == len(days):
            break
        want += limit
    return _home_calls(settings, principal, rows)


def _home_calls(settings, principal: Principal, rows: list) -> list[HomeCall]:
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


def summary_query(principal: Principal, zone: str, now: datetime, days: list[date]) -> tuple[str, dict]:
    """The SQL and parameters of the month totals read from these UTC day partitions."""
    params = Params()
    scope = scope_sql(scope_filter(own_scope(principal)), params)
    month_start, today_start, _first = month_bounds(zone, now)
    day_list = _day_list(days, params)
    params.values["month_start"] = month_start
    params.values["today_start"] = today_start
    sql = _sql("home_summary.sql").replace("{{scope}}", scope).replace("{{days}}", day_list)
    return sql, params.values


def month_bounds(zone: str, now: datetime) -> tuple[datetime, datetime, date]:
    """The UTC instants of the local month's start and of today's local midnight, and the month's first day."""
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    first = today.replace(day=1)
    return local_midnight_utc(first, zone), local_midnight_utc(today, zone), first


def summary_plan(
    settings, con, principal: Principal, zone: str, now: datetime
) -> tuple[list[date], tuple[date, date] | None]:
    """The UTC days to scan, and the range (exclusive) of whole days the index's day totals cover."""
    month_start, today_start, _first = month_bounds(zone, now)
    if not _unbounded(principal):
        days = days_with_calls(settings, con, principal, since=month_start.date())
        return sorted(d for d, _n in days), None
    refresh_index(settings, con)
    # the UTC day the month starts in, and those of today's local date, may be partial: scan them
    edges = {month_start.date()}
    day = today_start.date()
    while day <= now.date():
        edges.add(day)
        day += timedelta(days=1)
    return sorted(edges), (month_start.date(), today_start.date())


def month_summary(settings, principal: Principal, zone: str, *, now: datetime | None = None, con=None) -> MonthSummary:
    """This local month's totals for the person's own extensions (H5)."""
    import warehouse

    now = now or datetime.now(UTC)
    _start, _today, first = month_bounds(zone, now)
    if not _extensions(principal):
        return MonthSummary(first, None, settings.company.currency, 0, None, None, 0)
    con = con or warehouse.connect(settings)
    scan, whole = summary_plan(settings, con, principal, zone, now)
    calls, cost, currency, answered, duration, offered, ring, missed_today = con.execute(
        *summary_query(principal, zone, now, scan)
    ).fetchall()[0]
    if whole is not None:
        more = con.execute(
            f"SELECT sum(calls), sum(cost), min(currency), sum(answered), sum(answered_duration_s), sum(offered), "
            f"sum(offered_ring_s) FROM {DAYS_TABLE} WHERE list_contains($extensions, extension) "
            "AND day > $after AND day < $before",
            {"extensions": _extensions(principal), "after": whole[0], "before": whole[1]},
        ).fetchall()[0]
        calls += int(more[0] or 0)
        if more[1] is not None:
            cost = more[1] if cost is None else cost + more[1]
        currency = currency or more[2]
        answered += int(more[3] or 0)
        duration = (duration or 0) + int(more[4] or 0)
        offered += int(more[5] or 0)
        ring = (ring or 0) + int(more[6] or 0)
    return MonthSummary(
        month_start=first,
        cost=cost,
        currency=currency or settings.company.currency,
        calls=int(calls or 0),
        avg_duration_s=(duration / answered) if answered else None,
        avg_ring_s=(ring / offered) if offered else None,
        missed_today=int(missed_today or 0),
    )
