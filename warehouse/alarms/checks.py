"""The alarm types (L1-L8, X4 call quality, X6 anomaly) and how each one is evaluated.

Every evaluation runs for the alarm's owner: SQL in `warehouse/alarms/sql/` reads the owner's
`my_calls` (`warehouse.access.scoped_query`, values as bind parameters, identifiers only from the
allow-lists here), and the numbers in what it finds are masked for the owner's role, whoever
receives the mail. An evaluation returns a `Finding`: the rows that tripped the alarm, labelled in
the owner's language, a one-line summary and the state to keep for the next run.

Windows. Alarms about calls count the calls that *ended* in the window [start, end): a call's record
is written when it ends, so a call is in the lake by the first run whose window closes after it. The
scheduler gives each run the window since the previous run's end (`window_minutes` > 0 looks back
that many minutes instead); the spending alarm uses its calendar period, the feed alarm looks at the
present, and the anomaly alarm judges the last whole hours.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.access import NUMBER_COLUMNS, Principal, mask_digits, mask_number, mask_result, scoped_query
from warehouse.alarms import params as P
from warehouse.appdb import ingest_file
from warehouse.i18n import N_, Translator, translator
from warehouse.querytext import strip_comments
from warehouse.recurrence import to_utc
from warehouse.reports.engine import Column
from warehouse.reports.fields import DESTINATION_TYPES, DIRECTIONS, FIELDS
from warehouse.reports.filters import local_midnight_utc, period_days

# Rows an alarm lists (the mail shows fewer; the Excel attachment has them all).
ALARM_ROWS = 1000
# How far back the feed alarm looks for each cluster's newest call, in days.
FEED_LOOKBACK_DAYS = 14


class AlarmError(ValueError):
    """An alarm cannot be evaluated as set (wrong owner, bad settings); the message says why."""


@dataclass
class Context:
    """One evaluation: for whom, in which language and zone, over which window, with what state."""

    settings: Any
    engine: Engine
    principal: Principal
    language: str
    zone: str
    now: datetime
    window_start: datetime
    window_end: datetime
    state: dict
    con: Any

    @property
    def tr(self) -> Translator:
        return translator(self.language)

    @property
    def hidden_digits(self) -> int:
        return mask_digits(self.settings, self.principal.role)


@dataclass
class Finding:
    """What an evaluation found: rows in column order (masked, labelled), a summary, the state to keep."""

    columns: list[Column]
    rows: list[tuple]
    summary: str
    details: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)
    truncated: bool = False

    @property
    def tripped(self) -> bool:
        """True when there is something to report."""
        return bool(self.rows)


@dataclass(frozen=True)
class AlarmType:
    """An alarm type: its key, model reference, title, what it watches, settings model and evaluator."""

    key: str
    code: str
    title: str
    question: str
    params: type[P._Params]
    evaluate: Callable[[Context, Any], Finding]
    admin_only: bool = False


# --- running the queries ---------------------------------------------------------------------------


def sql_text(name: str) -> str:
    """An alarm query from warehouse/alarms/sql, without its whole-line comments."""
    return strip_comments(resources.files("warehouse.alarms").joinpath("sql", name).read_text(encoding="utf-8"))


def query(ctx: Context, name: str, values: dict, tokens: dict[str, str] | None = None) -> list[dict]:
    """Run an alarm query on the owner's calls; rows as dicts."""
    text = sql_text(name)
    for token, value in (tokens or {}).items():
        text = text.replace("{{" + token + "}}", value)
    # DuckDB refuses parameters a query does not use
    used = {k: v for k, v in values.items() if re.search(r"\$" + k + r"\b", text)}
    cur = scoped_query(ctx.con, ctx.principal, text, used)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def event_window(ctx: Context, window_minutes: int) -> tuple[datetime, datetime]:
    """The window of an alarm about calls: since the last run, or the last `window_minutes`."""
    end = ctx.window_end
    start = end - timedelta(minutes=window_minutes) if window_minutes else ctx.window_start
    return start, end


def window_values(start: datetime, end: datetime) -> dict:
    """Bind values of a window of call ends (and the day partitions that may hold those calls)."""
    # a call that ends in the window may have started the day before
    return {
        "window_start": start,
        "window_end": end,
        "day_from": (start - timedelta(days=1)).date(),
        "day_to": end.date(),
    }


def _label(key: str) -> str:
    return FIELDS[key].label


def _finish(ctx: Context, columns: list[tuple[str, str, str]], rows: list[dict], summary: str, **extra) -> Finding:
    """Mask, label and order the rows of a finding."""
    tr = ctx.tr
    masked = mask_result(ctx.settings, ctx.principal, rows, columns=NUMBER_COLUMNS) if rows else []
    out_rows = []
    for row in masked:
        values = []
        for key, _label_id, _kind in columns:
            value = row.get(key)
            if key == "direction" and value in DIRECTIONS:
                value = tr.gettext(DIRECTIONS[value])
            elif key == "destination_type" and value in DESTINATION_TYPES:
                value = tr.gettext(DESTINATION_TYPES[value])
            values.append(value)
        out_rows.append(tuple(values))
    cols = [Column(key, tr.gettext(label), kind) for key, label, kind in columns]
    truncated = len(out_rows) > ALARM_ROWS
    return Finding(cols, out_rows[:ALARM_ROWS], summary, truncated=truncated, **extra)


def _window_line(ctx: Context, start: datetime, end: datetime) -> str:
    tr = ctx.tr
    return tr.gettext("Calls that ended between {start} and {end}").format(
        start=tr.datetime(start, ctx.zone), end=tr.datetime(end, ctx.zone)
    )


CALL_COLUMNS = [
    ("started_at", FIELDS["started_at"].label, "datetime"),
    ("extension", FIELDS["extension"].label, "text"),
    ("user_name", FIELDS["user_name"].label, "text"),
    ("other_number", FIELDS["other_number"].label, "phone"),
]


# --- L1 calls outside working hours -------------------------------------------------------------


def outside_hours(ctx: Context, p: P.OutsideHours) -> Finding:
    """L1: calls outside the working hours of their site."""
    start, end = event_window(ctx, p.window_minutes)
    rules = [("", p.default_hours)] + [(h.site, h) for h in p.site_hours]
    values = window_values(start, end) | {
        "zone_sites": [s.name for s in ctx.settings.sites],
        "zone_names": [s.time_zone for s in ctx.settings.sites],
        "default_zone": ctx.settings.company.time_zone,
        "hour_sites": [site for site, _ in rules],
        "hour_days": [list(h.days) for _, h in rules],
        "hour_open": [h.open_minute for _, h in rules],
        "hour_close": [h.close_minute for _, h in rules],
        "closed_dates": list(p.closed_dates),
        "directions": list(p.directions),
        "sites": list(p.sites),
        "answered_only": p.answered_only,
        "min_duration": p.min_duration_s,
        "zone": ctx.zone,
        "limit": ALARM_ROWS + 1,
    }
    rows = query(ctx, "outside_hours.sql", values)
    columns = [
        ("started_at", FIELDS["started_at"].label, "datetime"),
        ("site_time", N_("Time at the site"), "datetime"),
        ("site", FIELDS["site"].label, "text"),
        ("extension", FIELDS["extension"].label, "text"),
        ("user_name", FIELDS["user_name"].label, "text"),
        ("direction", FIELDS["direction"].label, "text"),
        ("other_number", FIELDS["other_number"].label, "phone"),
        ("destination_type", FIELDS["destination_type"].label, "text"),
        ("duration_s", FIELDS["duration_s"].label, "duration"),
        ("cost", FIELDS["cost"].label, "money"),
    ]
    tr = ctx.tr
    summary = tr.ngettext("{n} call outside working hours", "{n} calls outside working hours", len(rows))
    return _finish(ctx, columns, rows, summary.format(n=tr.number(len(rows))), details=[_window_line(ctx, start, end)])


# --- L2 forbidden numbers ----------------------------------------------------------------------------


def forbidden_numbers(ctx: Context, p: P.ForbiddenNumbers) -> Finding:
    """L2: outgoing calls to forbidden numbers or prefixes."""
    start, end = event_window(ctx, p.window_minutes)
    patterns = [(n, True) for n in p.numbers] + [(x, False) for x in p.prefixes]
    values = window_values(start, end) | {
        "patterns": [x for x, _ in patterns],
        "exact": [e for _, e in patterns],
        "answered_only": p.answered_only,
        "zone": ctx.zone,
        "limit": ALARM_ROWS + 1,
    }
    rows = query(ctx, "forbidden_numbers.sql", values)
    hidden = ctx.hidden_digits
    for row in rows:
        # a whole forbidden number is a number like any other: masked as the owner sees numbers
        if row.pop("exact"):
            row["pattern"] = mask_number(row["pattern"], hidden)
    columns = [
        ("started_at", FIELDS["started_at"].label, "datetime"),
        ("extension", FIELDS["extension"].label, "text"),
        ("user_name", FIELDS["user_name"].label, "text"),
        ("other_number", FIELDS["other_number"].label, "phone"),
        ("pattern", N_("Forbidden entry"), "text"),
        ("destination_type", FIELDS["destination_type"].label, "text"),
        ("duration_s", FIELDS["duration_s"].label, "duration"),
        ("answered", FIELDS["answered"].label, "bool"),
        ("cost", FIELDS["cost"].label, "money"),
    ]
    tr = ctx.tr
    summary = tr.ngettext("{n} call to a forbidden number", "{n} calls to forbidden numbers", len(rows))
    return _finish(ctx, columns, rows, summary.format(n=tr.number(len(rows))), details=[_window_line(ctx, start, end)])


# --- L3 spending ------------------------------------------------------------------------------------

# Grouping column and its display column (the allow-list of spending.sql's tokens).
SPENDING_GROUPS = {
    "user": ("user_id", "user_name", N_("User")),
    "department": ("department", "department", N_("Department")),
    "cost_centre": ("cost_centre", "cost_centre", N_("Cost centre")),
}
SPENDING_PERIODS = {
    "today": N_("Today"),
    "this_week": N_("This week"),
    "this_month": N_("This month"),
    "last_7_days": N_("Last 7 days"),
    "last_30_days": N_("Last 30 days"),
}


def spending(ctx: Context, p: P.Spending) -> Finding:
    """L3: users, departments or cost centres that spent more than the threshold in the period."""
    today = ctx.now.astimezone(zoneinfo.ZoneInfo(ctx.zone)).date()
    first, end = period_days(p.period, today)
    period_start, period_end = local_midnight_utc(first, ctx.zone), local_midnight_utc(end, ctx.zone)
    key, label, title = SPENDING_GROUPS[p.group_by]
    values = {
        "period_start": period_start,
        "period_end": period_end,
        "day_from": period_start.date(),
        "day_to": period_end.date(),
        "subjects": list(p.subjects),
        "threshold": p.threshold,
    }
    rows = query(ctx, "spending.sql", values, {"key": key, "label": label})
    period_key = first.isoformat()
    reported = set(ctx.state.get("reported", [])) if ctx.state.get("period") == period_key else set()
    if not p.repeat:
        rows = [r for r in rows if r["subject"] not in reported]
    state = {"period": period_key, "reported": sorted(reported | {r["subject"] for r in rows})}
    columns = [("subject", title, "text")]
    if p.group_by == "user":
        columns.append(("name", FIELDS["user_name"].label, "text"))
    columns += [("calls", N_("Calls"), "int"), ("cost", N_("Spent"), "money")]
    tr = ctx.tr
    currency = ctx.settings.company.currency
    summary = tr.ngettext(
        "{n} spent more than {amount} ({period})", "{n} spent more than {amount} ({period})", len(rows)
    ).format(
        n=tr.number(len(rows)), amount=tr.money(p.threshold, currency), period=tr.gettext(SPENDING_PERIODS[p.period])
    )
    details = [
        tr.gettext("Period: {first} – {last}").format(first=tr.date(first), last=tr.date(end - timedelta(days=1)))
    ]
    return _finish(ctx, columns, rows, summary, details=details, state=state)


# --- L4 missed calls ---------------------------------------------------------------------------------


def missed_calls(ctx: Context, p: P.MissedCalls) -> Finding:
    """L4: extensions (or a list of them together) with at least N missed calls in the window."""
    start, end = event_window(ctx, p.window_minutes)
    together = p.together and bool(p.extensions)
    values = window_values(start, end) | {
        "extensions": list(p.extensions),
        "together": together,
        "group_name": ", ".join(p.extensions),
        "threshold": p.threshold,
        "zone": ctx.zone,
    }
    rows = query(ctx, "missed_calls.sql", values)
    columns = [("target", N_("Extensions") if together else N_("Extension"), "text")]
    if not together:
        columns.append(("user_name", FIELDS["user_name"].label, "text"))
    columns += [
        ("missed_calls", N_("Missed calls"), "int"),
        ("first_missed", N_("First"), "datetime"),
        ("last_missed", N_("Last"), "datetime"),
    ]
    tr = ctx.tr
    total = sum(int(r["missed_calls"]) for r in rows)
    summary = tr.ngettext("{n} missed call", "{n} missed calls", total).format(n=tr.number(total))
    details = [
        _window_line(ctx, start, end),
        tr.gettext("Threshold: {n} missed calls").format(n=tr.number(p.threshold)),
    ]
    return _finish(ctx, columns, rows, summary, details=details)


# --- L5 international calls ------------------------------------------------------------------------


def international(ctx: Context, p: P.International) -> Finding:
    """L5: outgoing international calls in the window."""
    start, end = event_window(ctx, p.window_minutes)
    values = window_values(start, end) | {
        "sites": list(p.sites),
        "answered_only": p.answered_only,
        "min_duration": p.min_duration_s,
        "zone": ctx.zone,
        "limit": ALARM_ROWS + 1,
    }
    rows = query(ctx, "international.sql", values)
    columns = [
        ("started_at", FIELDS["started_at"].label, "datetime"),
        ("site", FIELDS["site"].label, "text"),
        ("extension", FIELDS["extension"].label, "text"),
        ("user_name", FIELDS["user_name"].label, "text"),
        ("other_number", FIELDS["other_number"].label, "phone"),
        ("nation", FIELDS["nation"].label, "text"),
        ("duration_s", FIELDS["duration_s"].label, "duration"),
        ("cost", FIELDS["cost"].label, "money"),
    ]
    tr = ctx.tr
    summary = tr.ngettext("{n} international call", "{n} international calls", len(rows))
    return _finish(ctx, columns, rows, summary.format(n=tr.number(len(rows))), details=[_window_line(ctx, start, end)])


# --- L6 the feed has stopped -------------------------------------------------------------------------


def working_minutes(hours: P.Hours, zone: str, start: datetime, end: datetime) -> int:
    """Minutes of working hours (in `zone`) between two UTC instants."""
    if end <= start:
        return 0
    tz = zoneinfo.ZoneInfo(zone)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    total = timedelta()
    day = first
    while day <= last:
        if day.isoweekday() in hours.days:
            o, c = hours.open_minute, hours.close_minute
            begin = datetime.combine(day, time(o // 60, o % 60))
            length = timedelta(days=1) if o == c else timedelta(minutes=(c - o) % (24 * 60))
            span_start = to_utc(begin, zone)
            span_end = to_utc(begin + length, zone)
            overlap = min(end, span_end) - max(start, span_start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def in_hours(hours: P.Hours, zone: str, instant: datetime) -> bool:
    """True when an instant falls in the working hours (overnight hours belong to the day they start)."""
    return working_minutes(hours, zone, instant - timedelta(minutes=1), instant) > 0


def cluster_activity(ctx: Context) -> dict[str, datetime]:
    """The newest sign of life per CUCM cluster: latest call start in the lake, latest CDR file written."""
    since = (ctx.now - timedelta(days=FEED_LOOKBACK_DAYS)).date()
    latest: dict[str, datetime] = {}
    for row in query(ctx, "feed_activity.sql", {"day_from": since}):
        if row["cluster"] and row["last_call"] is not None:
            latest[row["cluster"]] = row["last_call"].astimezone(UTC)
    with ctx.engine.connect() as conn:
        ledger = conn.execute(
            sa.select(ingest_file.c.cluster, sa.func.max(ingest_file.c.file_time))
            .where(ingest_file.c.status == "loaded", ingest_file.c.rows > 0, ingest_file.c.cluster.is_not(None))
            .group_by(ingest_file.c.cluster)
        ).all()
    for cluster, written in ledger:
        if cluster and written is not None:
            written = written.astimezone(UTC)
            latest[cluster] = max(latest.get(cluster, written), written)
    return latest


def feed_silent(ctx: Context, p: P.FeedSilent) -> Finding:
    """L6: clusters from which no call arrived for N minutes of working hours."""
    if not ctx.principal.is_admin:
        raise AlarmError("the feed alarm looks at every call: its owner must be an administrator")
    site = ctx.settings.site(p.site) if p.site else None
    zone = site.time_zone if site is not None else ctx.settings.company.time_zone
    activity = cluster_activity(ctx)
    clusters = list(p.clusters) or sorted(activity)
    reported = dict(ctx.state.get("reported", {}))
    rows = []
    now = ctx.now
    if in_hours(p.hours, zone, now):
        for cluster in clusters:
            last = activity.get(cluster)
            since = last or now - timedelta(days=FEED_LOOKBACK_DAYS)
            silent = working_minutes(p.hours, zone, since, now)
            key = last.isoformat() if last else "never"
            if silent >= p.silent_minutes and reported.get(cluster) != key:
                rows.append(
                    {
                        "cluster": cluster,
                        "last_call": last.astimezone(zoneinfo.ZoneInfo(ctx.zone)).replace(tzinfo=None)
                        if last
                        else None,
                        "silent_s": int((now - since).total_seconds()),
                    }
                )
                reported[cluster] = key
    # a cluster that came back ends its silence: the next one is reported again
    for cluster, key in list(reported.items()):
        last = activity.get(cluster)
        if last is not None and key != last.isoformat():
            del reported[cluster]
    columns = [
        ("cluster", N_("Cluster"), "text"),
        ("last_call", N_("Last call"), "datetime"),
        ("silent_s", N_("Silent for"), "duration"),
    ]
    tr = ctx.tr
    summary = tr.ngettext(
        "No calls from {n} cluster for {minutes} minutes of working hours",
        "No calls from {n} clusters for {minutes} minutes of working hours",
        len(rows),
    ).format(n=tr.number(len(rows)), minutes=tr.number(p.silent_minutes))
    return _finish(ctx, columns, rows, summary, state={"reported": reported})


# --- L7 unrecognised destinations ------------------------------------------------------------------


def unknown_destinations(ctx: Context, p: P.UnknownDestinations) -> Finding:
    """L7: at least N outgoing calls to destinations the numbering plan does not recognise."""
    start, end = event_window(ctx, p.window_minutes)
    values = window_values(start, end) | {"zone": ctx.zone, "limit": ALARM_ROWS + 1}
    rows = query(ctx, "unknown_destinations.sql", values)
    total = int(rows[0]["total"]) if rows else 0
    if total < p.min_calls:
        rows = []
    columns = [
        ("started_at", FIELDS["started_at"].label, "datetime"),
        ("extension", FIELDS["extension"].label, "text"),
        ("user_name", FIELDS["user_name"].label, "text"),
        ("other_number", FIELDS["other_number"].label, "phone"),
        ("gateway", FIELDS["gateway"].label, "text"),
        ("duration_s", FIELDS["duration_s"].label, "duration"),
        ("rate_ref", N_("Priced by"), "text"),
    ]
    tr = ctx.tr
    summary = tr.ngettext(
        "{n} call to an unrecognised destination", "{n} calls to unrecognised destinations", total
    ).format(n=tr.number(total))
    details = [
        _window_line(ctx, start, end),
        tr.gettext("Threshold: at least {n} calls").format(n=tr.number(p.min_calls)),
    ]
    return _finish(ctx, columns, rows, summary, details=details)


# --- L8 extensions not in the directory -------------------------------------------------------------


def unknown_extensions(ctx: Context, p: P.UnknownExtensions) -> Finding:
    """L8: extensions that made or took calls while no directory user had them."""
    from warehouse.directory import unknown_extensions as find_unknown

    if not ctx.principal.is_admin:
        raise AlarmError(
            "extensions outside the directory belong to nobody's scope: the owner must be an administrator"
        )
    start, end = event_window(ctx, p.window_minutes)
    tz = zoneinfo.ZoneInfo(ctx.zone)
    found = [u for u in find_unknown(ctx.settings, ctx.con, since=start, until=end) if u.calls >= p.min_calls]
    rows = [
        {
            "extension": u.extension,
            "site": u.site,
            "first_seen": u.first_seen.astimezone(tz).replace(tzinfo=None),
            "last_seen": u.last_seen.astimezone(tz).replace(tzinfo=None),
            "calls": u.calls,
            "devices": ", ".join(u.devices),
        }
        for u in found
    ]
    columns = [
        ("extension", FIELDS["extension"].label, "text"),
        ("site", FIELDS["site"].label, "text"),
        ("calls", N_("Calls"), "int"),
        ("first_seen", N_("First"), "datetime"),
        ("last_seen", N_("Last"), "datetime"),
        ("devices", N_("Devices"), "text"),
    ]
    tr = ctx.tr
    summary = tr.ngettext(
        "{n} extension not in the directory", "{n} extensions not in the directory", len(rows)
    ).format(n=tr.number(len(rows)))
    details = [
        tr.gettext("Calls that started between {start} and {end}").format(
            start=tr.datetime(start, ctx.zone), end=tr.datetime(end, ctx.zone)
        )
    ]
    return _finish(ctx, columns, rows, summary, details=details)


# --- X4 call quality -----------------------------------------------------------------------------------

QUALITY_GROUPS = {"gateway": ("gateway", N_("Gateway")), "site": ("site", N_("Site"))}


def call_quality(ctx: Context, p: P.CallQuality) -> Finding:
    """X4: gateways or sites whose calls' average MOS or packet loss is past the thresholds."""
    start, end = event_window(ctx, p.window_minutes)
    column, title = QUALITY_GROUPS[p.group_by]
    values = window_values(start, end) | {
        "mos_below": p.mos_below,
        "loss_above": p.loss_above_pct,
        "min_calls": p.min_calls,
    }
    rows = query(ctx, "call_quality.sql", values, {"group": column})
    for row in rows:
        for key in ("avg_mos", "min_mos", "avg_loss", "max_loss"):
            if row[key] is not None:
                row[key] = Decimal(str(round(float(row[key]), 2)))
    columns = [
        ("target", title, "text"),
        ("calls", N_("Calls with quality figures"), "int"),
        ("poor_calls", N_("Poor calls"), "int"),
        ("avg_mos", N_("Average MOS"), "decimal"),
        ("min_mos", N_("Lowest MOS"), "decimal"),
        ("avg_loss", N_("Average packet loss (%)"), "decimal"),
        ("max_loss", N_("Highest packet loss (%)"), "decimal"),
    ]
    tr = ctx.tr
    if p.group_by == "site":
        summary = tr.ngettext("Poor call quality at {n} site", "Poor call quality at {n} sites", len(rows))
    else:
        summary = tr.ngettext("Poor call quality on {n} gateway", "Poor call quality on {n} gateways", len(rows))
    summary = summary.format(n=tr.number(len(rows)))
    details = [
        _window_line(ctx, start, end),
        tr.gettext("Thresholds: average MOS below {mos} or packet loss above {loss} %, from {n} calls").format(
            mos=tr.number(p.mos_below, 2), loss=tr.number(p.loss_above_pct, 2), n=tr.number(p.min_calls)
        ),
    ]
    return _finish(ctx, columns, rows, summary, details=details)


# --- X6 anomaly --------------------------------------------------------------------------------------------

ANOMALY_GROUPS = {"extension": ("extension", N_("Extension")), "cost_centre": ("cost_centre", N_("Cost centre"))}


def anomaly_windows(zone: str, end_utc: datetime, hours: int, weeks: int) -> list[tuple[int, datetime, datetime]]:
    """The window judged (week 0: the last `hours` whole hours before `end_utc`, local) and the same
    local hours 1..`weeks` weeks before, as UTC instants (daylight saving kept in local time)."""
    tz = zoneinfo.ZoneInfo(zone)
    local_end = end_utc.astimezone(tz).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    local_start = local_end - timedelta(hours=hours)
    out = []
    for week in range(weeks + 1):
        shift = timedelta(days=7 * week)
        out.append((week, to_utc(local_start - shift, zone), to_utc(local_end - shift, zone)))
    return out


def anomaly(ctx: Context, p: P.Anomaly) -> Finding:
    """X6: extensions or cost centres far above their own baseline (same weekday and hours, past weeks)."""
    windows = anomaly_windows(ctx.zone, ctx.window_end, p.window_hours, p.weeks)
    _week, start, end = windows[0]
    last_judged = ctx.state.get("judged_until")
    state = {"judged_until": end.isoformat()}
    columns_key, title = ANOMALY_GROUPS[p.group_by]
    columns = [("target", title, "text")]
    if p.group_by == "extension":
        columns.append(("user_name", FIELDS["user_name"].label, "text"))
    columns += [
        ("calls", N_("Calls"), "int"),
        ("calls_median", N_("Usual calls (median)"), "decimal"),
        ("cost", N_("Cost"), "money"),
        ("cost_median", N_("Usual cost (median)"), "money"),
    ]
    tr = ctx.tr
    details = [
        tr.gettext(
            "Calls that started between {start} and {end}, against the same hours of the {weeks} weeks before"
        ).format(start=tr.datetime(start, ctx.zone), end=tr.datetime(end, ctx.zone), weeks=tr.number(p.weeks))
    ]
    rows: list[dict] = []
    if last_judged != end.isoformat():  # each window is judged once
        days = sorted(
            {
                (s + timedelta(days=i)).date()
                for _w, s, e in windows
                for i in range((e - s).days + 2)
                if (s + timedelta(days=i)).date() <= e.date()
            }
        )
        values = {
            "weeks_back": [w for w, _s, _e in windows],
            "window_starts": [s for _w, s, _e in windows],
            "window_ends": [e for _w, _s, e in windows],
            "days": days,
            "k": p.k,
            "min_extra_calls": p.min_extra_calls,
            "min_extra_cost": float(p.min_extra_cost),
        }
        rows = query(ctx, "anomaly.sql", values, {"key": columns_key})
        for row in rows:
            row["calls_median"] = Decimal(str(round(float(row["calls_median"]), 1)))
            row["cost"] = Decimal(str(round(float(row["cost"]), 2)))
            row["cost_median"] = Decimal(str(round(float(row["cost_median"]), 2)))
    if p.group_by == "cost_centre":
        summary = tr.ngettext(
            "{n} cost centre with unusual traffic", "{n} cost centres with unusual traffic", len(rows)
        )
    else:
        summary = tr.ngettext("{n} extension with unusual traffic", "{n} extensions with unusual traffic", len(rows))
    summary = summary.format(n=tr.number(len(rows)))
    return _finish(ctx, columns, rows, summary, details=details, state=state)


# --- the registry ------------------------------------------------------------------------------------------

ALARM_TYPES: dict[str, AlarmType] = {
    t.key: t
    for t in (
        AlarmType(
            "outside_hours",
            "L1",
            N_("Calls outside working hours"),
            N_("Who calls outside the working hours of their site?"),
            P.OutsideHours,
            outside_hours,
        ),
        AlarmType(
            "forbidden_numbers",
            "L2",
            N_("Calls to forbidden numbers"),
            N_("Did anyone call a number or prefix on the forbidden list?"),
            P.ForbiddenNumbers,
            forbidden_numbers,
        ),
        AlarmType(
            "spending",
            "L3",
            N_("Spending over a threshold"),
            N_("Which user, department or cost centre spent more than the set amount?"),
            P.Spending,
            spending,
        ),
        AlarmType(
            "missed_calls",
            "L4",
            N_("Too many missed calls"),
            N_("Which extensions missed too many calls?"),
            P.MissedCalls,
            missed_calls,
        ),
        AlarmType(
            "international",
            "L5",
            N_("International calls"),
            N_("Who made international calls?"),
            P.International,
            international,
        ),
        AlarmType(
            "feed_silent",
            "L6",
            N_("No calls acquired (feed stopped)"),
            N_("Has the call data feed stopped during working hours?"),
            P.FeedSilent,
            feed_silent,
            admin_only=True,
        ),
        AlarmType(
            "unknown_destinations",
            "L7",
            N_("Calls to unrecognised destinations"),
            N_("Were there outgoing calls to numbers the numbering plan does not know?"),
            P.UnknownDestinations,
            unknown_destinations,
        ),
        AlarmType(
            "unknown_extensions",
            "L8",
            N_("Extensions not in the directory"),
            N_("Which extensions made or took calls without belonging to anyone?"),
            P.UnknownExtensions,
            unknown_extensions,
            admin_only=True,
        ),
        AlarmType(
            "call_quality",
            "X4",
            N_("Poor call quality"),
            N_("Which gateways or sites had poor voice quality (MOS, packet loss)?"),
            P.CallQuality,
            call_quality,
        ),
        AlarmType(
            "anomaly",
            "X6",
            N_("Unusual traffic"),
            N_("Which extensions or cost centres call far more than they usually do at this hour?"),
            P.Anomaly,
            anomaly,
        ),
    )
}


def alarm_type(key: str) -> AlarmType:
    """An alarm type by key (KeyError names the known ones)."""
    try:
        return ALARM_TYPES[key]
    except KeyError:
        raise KeyError(f"unknown alarm type {key!r} (one of {', '.join(ALARM_TYPES)})") from None


def evaluate(ctx: Context, key: str, options: dict | str | None) -> Finding:
    """Evaluate one alarm for its owner: what tripped it, if anything."""
    kind = alarm_type(key)
    settings_model = P.parse(kind.params, options)
    if kind.admin_only and not ctx.principal.is_admin:
        raise AlarmError(f"the alarm “{kind.code}” needs an administrator as its owner")
    return kind.evaluate(ctx, settings_model)
