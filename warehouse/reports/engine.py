"""The one report engine: run a catalogue report for a person, with options, into a ReportResult.

Used by the portal, by `ringledger report run` and by scheduled mail. The query is the report's
`.sql` file with the scoped, filtered calls in place of `{{calls}}`; the person's scope
(`warehouse.access.scope_filter`) is always part of it. External numbers in the result are already
masked for the person's role, so whatever shows or sends the result cannot leak them.
"""

from __future__ import annotations

import dataclasses
import re
import time
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.access import Principal, mask_digits, mask_number, scope_filter
from warehouse.i18n import N_, Translator, translator
from warehouse.querytext import expand, report_sql, strip_comments
from warehouse.reports import catalogue as cat
from warehouse.reports.fields import (
    DEFAULT_LIST_FIELDS,
    DIMENSIONS,
    FIELDS,
    GRANULARITIES,
    LOCAL_START,
    NO_EXTRA_IN_PARTS,
    VALUE_LABELS,
)
from warehouse.reports.filters import (
    DEFAULT_ANSWER_WITHIN_S,
    DEFAULT_BLOCKING_PCT,
    DEFAULT_BUSY_DAYS,
    DEFAULT_INTERVAL,
    INTERVALS,
    Filters,
    Params,
    Period,
    build_where,
    describe,
    local_midnight_utc,
    resolve_period,
    scope_sql,
)
from warehouse.reports.inputs import devices_sql, numbering_sql

# A list of the newest calls over a longer period first reads this many last days (see run_report).
RECENT_DAYS = 7
# ... and a table of the newest calls stands when its rows started this long after those days began.
NEWEST_MARGIN = timedelta(days=1)
# Rows a report returns when the person sets no maximum: lists are for reading, groups are small.
DEFAULT_LIST_ROWS = 5_000
DEFAULT_GROUP_ROWS = 10_000
NOT_SET = N_("(not set)")
# Columns of `calls` that come from the directory (joined when calls are read).
_DIRECTORY_COLUMNS = re.compile(r"\b(?:user_id|user_name|department|cost_centre)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    """An output column: key, label in the result's language, and kind (see fields.KINDS)."""

    key: str
    label: str
    kind: str


@dataclass
class ReportResult:
    """What a report run produced, ready to show or export (numbers already masked)."""

    name: str
    title: str
    question: str
    kind: str
    columns: list[Column]
    rows: list[tuple]
    filters: Filters
    description: str
    zone: str
    language: str
    currency: str
    generated_at: datetime
    period: Period
    truncated: bool = False
    chart: cat.Chart | None = None
    totals: dict[str, object] = field(default_factory=dict)
    company: str = ""
    logo: Path | None = None
    user_id: str = ""
    elapsed_ms: float = 0.0
    group_keys: tuple[str, ...] = ()  # the columns that name a group (g1, g2), in order

    @property
    def tr(self) -> Translator:
        return translator(self.language)

    def index(self, key: str) -> int:
        """Position of a column."""
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def values(self, key: str) -> list:
        """One column's values."""
        i = self.index(key)
        return [r[i] for r in self.rows]

    def records(self) -> list[dict]:
        """Rows as dicts keyed by column key."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, r, strict=True)) for r in self.rows]

    def chart_measures(self) -> list[str]:
        """The measure columns the chart draws (stacked ones, or the first with a value)."""
        if self.chart is None or not self.rows:
            return []
        present = {c.key for c in self.columns}
        if self.chart.stacked:
            return [k for k in self.chart.stacked if k in present]
        for key in self.chart.y:
            if key in present and any(v not in (None, 0) for v in self.values(key)):
                return [key]
        return [k for k in self.chart.y if k in present][:1]

    def group_label(self, row: tuple) -> str:
        """The text naming a row's group (g1, or 'g1 / g2')."""
        parts = []
        for key in self.group_keys:
            value = row[self.index(key)]
            parts.append(format_value(value, self._kind(key), self.tr, self.currency))
        return " / ".join(parts)

    def _kind(self, key: str) -> str:
        return next(c.kind for c in self.columns if c.key == key)


def format_value(value, kind: str, tr: Translator, currency: str = "") -> str:
    """A value as text in the result's language (screens, PDF, CSV)."""
    if value is None:
        return ""
    if kind == "money":
        return tr.money(value, currency or None)
    if kind == "duration":
        return tr.duration(value)
    if kind == "percent":
        return tr.percent(value)
    if kind == "int":
        return tr.number(int(value))
    if kind == "decimal":
        return tr.number(value, 2)
    if kind == "datetime" and isinstance(value, datetime):
        return f"{tr.date(value)} {tr.time(value)}"
    if kind == "date" and isinstance(value, date | datetime):
        return tr.date(value)
    if kind == "bool":
        return tr.gettext("Yes") if value else tr.gettext("No")
    return str(value)


def sql_text(report: cat.ReportDef) -> str:
    """The query text of a report (shipped in warehouse/reports/sql, or an absolute path)."""
    path = Path(report.sql)
    if path.is_absolute():
        return path.read_text(encoding="utf-8")
    return resources.files("warehouse.reports").joinpath("sql", report.sql).read_text(encoding="utf-8")


def report_zone(settings, principal: Principal, filters: Filters) -> str:
    """The time zone a report is computed in: the option, else the person's, else the company's."""
    for zone in (filters.time_zone, principal.time_zone, settings.company.time_zone, "UTC"):
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return zone
    return "UTC"


def own_scope(principal: Principal) -> Principal:
    """The same person seeing only their own extensions (personal reports such as 'My traffic')."""
    return dataclasses.replace(principal, role="user", departments=(), cost_centres=())


def dimensions(report: cat.ReportDef, filters: Filters) -> list[str]:
    """What a grouping report groups by: the person's choice for custom groupings, else the report's."""
    if report.custom_groups:
        return list(filters.group_by or report.defaults.group_by or report.dimensions)
    return list(report.dimensions)


@dataclass(frozen=True)
class ReportOptions:
    """The report-specific options of one run, with the defaults filled in."""

    answer_within_s: int
    interval: str
    interval_s: int
    blocking: float  # the blocking aimed for, as a probability (0.01 for 1 %)
    busy_days: int


def report_options(report: cat.ReportDef, filters: Filters) -> ReportOptions:
    """The options a report runs with: the person's where the report takes them, else its own defaults."""

    def pick(name: str, default):
        if name in report.options and getattr(filters, name) is not None:
            return getattr(filters, name)
        value = getattr(report.defaults, name)
        return default if value is None else value

    interval = pick("interval", DEFAULT_INTERVAL)
    return ReportOptions(
        answer_within_s=int(pick("answer_within_s", DEFAULT_ANSWER_WITHIN_S)),
        interval=interval,
        interval_s=INTERVALS[interval][1],
        blocking=float(pick("blocking_pct", DEFAULT_BLOCKING_PCT)) / 100,
        busy_days=int(pick("busy_days", DEFAULT_BUSY_DAYS)),
    )


def _context_sql(period: Period, days: tuple[int, int], params: Params, source: str = "calls") -> str:
    """Every call from `days[0]` days before the period to `days[1]` days after it (no scope, no filters)."""
    if period.start_utc is None or period.end_utc is None:
        return f"(select * from {source}) as c"
    start = period.start_utc - timedelta(days=days[0])
    end = period.end_utc + timedelta(days=days[1])
    return (
        f"(select * from {source} as c where c.day >= {params.add(start.date(), 'x')} "
        f"and c.day <= {params.add((end - timedelta(microseconds=1)).date(), 'x')} "
        f"and c.started_at >= {params.add(start, 'x')} and c.started_at < {params.add(end, 'x')}) as c"
    )


def _all_days_stored(con, settings, period: Period, missing: str, values: dict[str, object]) -> bool:
    """True when no day of the period that has calls is `missing` what the calls build derives (derived_days)."""
    if con is None:
        import warehouse

        con = warehouse.connect(settings)
    if period.start_utc is not None and period.end_utc is not None:
        missing = f"({missing}) and day between $first and $last"
        last = (period.end_utc - timedelta(microseconds=1)).date()
        values = {**values, "first": period.start_utc.date(), "last": last}
    try:
        row = con.execute(f"select count(*) from derived_days where {missing}", values).fetchone()
    except duckdb.CatalogException:
        return False  # a connection without the lake's views (the report previews' example calls)
    return row is not None and row[0] == 0


def offers_stored(con, settings, period: Period) -> bool:
    """True when every day of the period that has calls has its offers stored with today's inventory."""
    from warehouse.offers import inventory_key

    return _all_days_stored(con, settings, period, "offers is distinct from $key", {"key": inventory_key(settings)})


# Options a rollup cannot answer: a report reads its rollup only when none of these is set.
_NOT_IN_ROLLUPS = (
    "gateways",
    "extensions",
    "departments",
    "cost_centres",
    "numbers",
    "call_types",
    "destination_types",
)


def _reads_everything(report: cat.ReportDef, filters: Filters, who: Principal) -> bool:
    """True when the reader may see every call and sets no option a stored rollup cannot answer."""
    if report.own_extensions or not who.is_admin:
        return False
    named = any(getattr(filters, name) for name in _NOT_IN_ROLLUPS)
    return not (named or filters.conditions or filters.quality != "all")


def reads_rollup(con, settings, report: cat.ReportDef, filters: Filters, who: Principal, period: Period) -> bool:
    """True when a report can be read from what the calls build stores, with the same result.

    The quarter-hour rollups hold every counted call by quarter hour, direction and currency, the
    pilot offers every call offered to a hunt pilot: they answer a reader who may see every call,
    asking for a period and a kind of traffic only, over days that all have them stored.
    """
    if report.rollup_sql is None or not _reads_everything(report, filters, who):
        return False
    return _all_days_stored(con, settings, period, f"not {report.rollup_days}", {})


# The capacity queries over the carrier legs, and the same rows from the stored gateway load.
_FROM_LOAD = {"carrier_hours": "load_hours", "carrier_peaks": "load_peaks"}


def reads_load(con, settings, report: cat.ReportDef, filters: Filters, who: Principal, period: Period) -> bool:
    """True when a capacity report can be read from the stored gateway quarters (warehouse.gateway_load).

    They hold every carrier leg of every gateway: they answer a reader who may see every call, asking
    for a period (whole quarter hours, as every period is) and nothing else, over days that all have
    their quarters stored with today's gateway inventory.
    """
    from warehouse.gateway_load import QUARTER_S, load_key

    if report.rows != "carrier" or filters.traffic != "all" or not _reads_everything(report, filters, who):
        return False
    if any(t is not None and t.timestamp() % QUARTER_S for t in (period.start_utc, period.end_utc)):
        return False
    missing = "gateway_load is distinct from $key"
    return _all_days_stored(con, settings, period, missing, {"key": load_key(settings)})


def _load_sql(period: Period, params: Params) -> str:
    """The stored gateway quarters of the period."""
    if period.start_utc is None or period.end_utc is None:
        return "(select * from gateway_load) as q"
    last = (period.end_utc - timedelta(microseconds=1)).date()
    return (
        f"(select * from gateway_load where day >= {params.add(period.start_utc.date(), 'q')} "
        f"and day <= {params.add(last, 'q')} and quarter_start >= $period_start "
        "and quarter_start < $period_end) as q"
    )


def _offers_source(con, settings, period: Period, days: tuple[int, int], params: Params, owners: bool) -> str:
    """The offers of the period: stored (warehouse.offers), or worked out from the calls the same way.

    With `owners`, each offer's line has its owner from the directory (a join per offer, so only
    when the query names a column of the directory).
    """
    from warehouse.offers import offers_sql
    from warehouse.views import with_owners

    if offers_stored(con, settings, period):
        return f"(select * from {'offers' if owners else 'offers_facts'}) as c"
    offers = "(" + offers_sql(_context_sql(period, days, params, source="calls_facts"), settings, params) + ")"
    return "(" + (with_owners(offers) if owners else f"select * from {offers}") + ") as c"


# Rows a report reads start at most this long before or after its period (lookback, context).
_LOCAL_MARGIN = timedelta(days=10)


def local_start_sql(zone: str, period: Period, params: Params) -> str | None:
    """`started_at` as local time in `zone` by adding the zone's UTC offset: the same as LOCAL_START.

    DuckDB's time zone conversion costs more than the rest of a grouping report put together when it
    runs on every call of a year. A zone's offset changes only at its transitions (twice a year, or
    never), so over a bounded period the local time is the UTC time plus one of a few offsets, picked
    by comparing the instant with the transitions (found with zoneinfo every six hours, then to the
    second). None for an open period (the conversion is then left to DuckDB).
    """
    if period.start_utc is None or period.end_utc is None:
        return None
    tz = zoneinfo.ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start, end = period.start_utc - _LOCAL_MARGIN, period.end_utc + _LOCAL_MARGIN
    current = offset(start)
    offsets, changes = [current], []
    at = start
    while at < end:
        step = min(at + timedelta(hours=6), end)
        if offset(step) != current:
            low, high = at, step  # the offset changes after low, at or before high
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            current = offset(step)
            changes.append(high.replace(microsecond=0))
            offsets.append(current)
        at = step
    seconds = params.add(offsets[-1] * 1_000_000, "z")  # microseconds
    for change, value in zip(reversed(changes), reversed(offsets[:-1]), strict=True):
        before = params.add(change, "z")
        seconds = f"case when started_at < {before} then {params.add(value * 1_000_000, 'z')} else {seconds} end"
    return f"make_timestamp(epoch_us(started_at) + {seconds})"


@dataclass
class Query:
    """A report's final SQL, its named parameters, and how to read its output."""

    sql: str
    params: dict
    period: Period
    zone: str
    group_keys: tuple[str, ...]
    list_fields: tuple[str, ...]
    limit: int


def build_query(
    settings,
    principal: Principal,
    report: cat.ReportDef,
    filters: Filters,
    now: datetime | None = None,
    con=None,
    period: Period | None = None,
) -> Query:
    """The SQL and parameters of one run (the same text the benchmark runs directly in DuckDB).

    A report that reads offers looks on `con` (the lake's views by default) for what is stored.
    `period` replaces the one the filters name (the recent days of a list, see `run_report`).
    """
    zone = report_zone(settings, principal, filters)
    period = period or resolve_period(filters, zone, now)
    params = Params()
    params.values["zone"] = zone
    who = own_scope(principal) if report.own_extensions else principal
    where = [scope_sql(scope_filter(who), params)] + build_where(
        filters,
        period,
        params,
        carrier=report.rows == "carrier",
        lookback=timedelta(days=report.lookback_days),
    )
    condition = " and ".join(where)
    if report.rollup_sql and reads_rollup(con, settings, report, filters, who, period):
        text = expand(strip_comments(report_sql(report.rollup_sql)))
    elif reads_load(con, settings, report, filters, who, period):
        text = expand(strip_comments(sql_text(report)), _FROM_LOAD)
    else:
        text = expand(strip_comments(sql_text(report)))
    # {{where}}: the same scope and options as a condition on any relation aliased `c` with the calls' columns
    tokens = {"where": "(" + condition + ")"}
    if "{{context}}" in text:
        if report.context_days is None:
            raise ValueError(f"report {report.name!r} reads {{{{context}}}} but sets no context_days")
        # the calls with their owners only when the query names the directory (a join per call)
        source = "calls" if _DIRECTORY_COLUMNS.search(text) else "calls_facts"
        tokens["context"] = _context_sql(period, report.context_days, params, source)
    if "{{devices}}" in text:
        tokens["devices"] = devices_sql(settings, params)
    if "{{gateway_load}}" in text:
        tokens["gateway_load"] = _load_sql(period, params)
    if "{{numbering}}" in text:
        tokens["numbering"] = numbering_sql(settings, params)
    options = report_options(report, filters)
    params.values["period_start"] = period.start_utc
    params.values["period_end"] = period.end_utc
    params.values["answer_within_s"] = options.answer_within_s
    params.values["interval_s"] = options.interval_s
    params.values["busy_days"] = options.busy_days
    params.values["blocking"] = options.blocking
    group_keys: tuple[str, ...] = ()
    list_fields: tuple[str, ...] = ()
    if report.kind == "list":
        list_fields = tuple(filters.fields or DEFAULT_LIST_FIELDS)
        selected = [f"{FIELDS[k].sql} as {k}" for k in list_fields]
        # internal numbers are extensions, not private: the engine masks only external ones
        selected.append("direction = 'internal' as _internal")
        tokens["fields"] = ", ".join(selected)
        tokens["order"] = cat.ORDERS[report.order]
        limit = filters.max_rows or DEFAULT_LIST_ROWS
    elif report.kind == "trend":
        tokens["bucket"] = GRANULARITIES[filters.granularity or "day"]
        group_keys = ("g1",)
        limit = filters.max_rows or DEFAULT_GROUP_ROWS
    elif report.kind == "table":
        group_keys = report.label_columns
        limit = filters.max_rows or DEFAULT_LIST_ROWS
    else:
        dims = dimensions(report, filters)
        if "{{g1}}" in text:
            if not dims:
                raise ValueError(f"report {report.name!r} needs at least one grouping")
            first = DIMENSIONS[dims[0]]
            tokens["g1"] = first.sql
            tokens["g2"] = DIMENSIONS[dims[1]].sql if len(dims) > 1 else "null"
            tokens["g1_extra"] = first.extra_sql if first.extra_sql and len(dims) == 1 else "null"
            parts = first.extra_in_parts() if len(dims) == 1 else NO_EXTRA_IN_PARTS
            tokens["g1_extra_parts"], tokens["g1_extra_of_parts"] = parts
            # a constant second grouping would still be hashed with every row
            tokens["group_keys"] = "1, 2" if len(dims) > 1 else "1"
            group_keys = ("g1", "g2") if len(dims) > 1 else ("g1",)
        else:
            group_keys = ("g1", "g2") if len(dims) > 1 else ("g1",)
        limit = filters.max_rows or DEFAULT_GROUP_ROWS
    for token, value in tokens.items():
        text = text.replace("{{" + token + "}}", value)
    if "{{offers}}" in text:
        if report.context_days is None:
            raise ValueError(f"report {report.name!r} reads {{{{offers}}}} but sets no context_days")
        owners = bool(_DIRECTORY_COLUMNS.search(text + " " + condition))
        text = text.replace("{{offers}}", _offers_source(con, settings, period, report.context_days, params, owners))
    if LOCAL_START in text:
        local = local_start_sql(zone, period, params)
        if local is not None:
            text = text.replace(LOCAL_START, local)
    # the calls with their owners from the directory, or without when nothing here names the directory
    source = "calls" if _DIRECTORY_COLUMNS.search(text + " " + condition) else "calls_facts"
    text = text.replace("{{calls}}", f"(select * from {source} as c where {condition}) as c")
    # DuckDB refuses parameters a query does not use
    used = {k: v for k, v in params.values.items() if re.search(r"\$" + k + r"\b", text)}
    params.values.clear()
    params.values.update(used)
    # one row more than asked tells the engine the result was cut
    params.values["limit"] = limit + 1
    return Query(text, params.values, period, zone, group_keys, list_fields, limit)


def run_report(
    settings,
    principal: Principal,
    name: str,
    filters: Filters | None = None,
    *,
    language: str | None = None,
    now: datetime | None = None,
    con=None,
    unmask: bool = False,
    engine=None,
) -> ReportResult:
    """Run a catalogue report for a person (their scope, their masking) and return the result.

    An administrator may ask for `unmask=True`: full numbers, and an entry in the audit log (the app
    database `engine` is then required), as `warehouse.access.mask_result` does for other views.
    """
    import warehouse

    if unmask:
        if not principal.is_admin:
            raise PermissionError("only administrators may see full numbers")
        if engine is None:
            raise ValueError("showing full numbers is audited: pass the app database engine")
    report = cat.get(name)
    filters = filters if filters is not None else report.defaults
    tr = translator(language or principal.language)
    con = con or warehouse.connect(settings)
    query = build_query(settings, principal, report, filters, now, con)
    started = time.perf_counter()
    names, rows = _run_list_recent_first(settings, principal, report, filters, now, con, query)
    elapsed = (time.perf_counter() - started) * 1000
    truncated = len(rows) > query.limit
    rows = rows[: query.limit]
    options = report_options(report, filters)
    if report.compute is not None:
        records = report.compute([dict(zip(names, r, strict=True)) for r in rows], options)
        names = list(dict.fromkeys([*names, *(k for rec in records for k in rec)]))
        rows = [tuple(rec.get(n) for n in names) for rec in records]
    hidden = 0 if unmask else mask_digits(settings, principal.role)
    columns, out_rows, group_keys = _shape(report, filters, query, names, rows, tr, hidden, options)
    currency = next(
        (r[names.index("currency")] for r in rows if "currency" in names and r[names.index("currency")]),
        settings.company.currency,
    )
    result = ReportResult(
        name=report.name,
        title=tr.gettext(report.title),
        question=tr.gettext(report.question),
        kind=report.kind,
        columns=columns,
        rows=out_rows,
        filters=filters,
        description=describe(filters, tr, query.zone, query.period, hidden),
        zone=query.zone,
        language=tr.language,
        currency=currency or "",
        generated_at=now or datetime.now(UTC),
        period=query.period,
        truncated=truncated,
        chart=report.chart if report.kind != "list" else None,
        company=settings.company.name,
        logo=logo_path(settings),
        user_id=principal.user_id,
        elapsed_ms=elapsed,
        group_keys=group_keys,
    )
    if report.totals:
        result.totals = _totals(result)
    if unmask:
        from warehouse.audit import NUMBERS_UNMASKED, audit

        audit(
            engine,
            principal.user_id,
            NUMBERS_UNMASKED,
            f"report {report.name}",
            {"rows": len(out_rows), "filters": filters.to_json()},
        )
    return result


def _recent_days(period: Period, zone: str) -> Period | None:
    """The last RECENT_DAYS local days of a longer period (None when the period is short or open)."""
    if period.first is None or period.end is None or period.end_utc is None:
        return None
    first = period.end - timedelta(days=RECENT_DAYS)
    if first <= period.first:
        return None
    return Period(first, period.end, local_midnight_utc(first, zone), period.end_utc)


def _run_list_recent_first(settings, principal, report, filters, now, con, query: Query) -> tuple[list, list]:
    """Run a query; a list of the newest calls first asks only the period's last days, when they fill it.

    The list shows the newest `limit` calls. When the last RECENT_DAYS days of the period hold more
    than that, every call before them is older than all the calls shown, so the answer is the same;
    over a year of a large company that reads a week instead of a year. Otherwise the whole period.

    A table of the newest calls (`newest_first`) is put together from each call's legs: over the last
    days alone, a call that began before them shows with only its later legs, starting within its
    length of their first day. So its answer stands only when all the rows shown started at least
    NEWEST_MARGIN (longer than a call lasts) after that day began.
    """
    newest = report.kind == "list" and report.order == "newest"
    recent = _recent_days(query.period, query.zone) if newest or report.newest_first else None
    if recent is not None and recent.first is not None:
        short = build_query(settings, principal, report, filters, now, con, period=recent)
        cur = con.execute(short.sql, short.params)
        names, rows = [d[0] for d in cur.description], cur.fetchall()
        settled = datetime.combine(recent.first, datetime.min.time()) + NEWEST_MARGIN
        if len(rows) > query.limit and (newest or rows[query.limit - 1][names.index(report.newest_first)] >= settled):
            return names, rows
    cur = con.execute(query.sql, query.params)
    return [d[0] for d in cur.description], cur.fetchall()


# Columns whose values the Options form offers (allow-list).
CHOICE_COLUMNS = ("gateway", "extension", "department", "cost_centre")


def choices(settings, principal: Principal, column: str, *, now: datetime | None = None, con=None) -> list[str]:
    """The values of a column among the calls the person may see lately (gateways, extensions, ...)."""
    import warehouse

    if column not in CHOICE_COLUMNS:
        raise ValueError(f"no choices for column {column!r} (one of {', '.join(CHOICE_COLUMNS)})")
    params = Params()
    scope = scope_sql(scope_filter(principal), params)
    # a year and a month of partitions is enough to offer every value in use
    params.values["since"] = ((now or datetime.now(UTC)) - timedelta(days=400)).date()
    text = strip_comments(report_sql("choices.sql"))
    sql = text.replace("{{scope}}", scope).replace("{{column}}", column)
    con = con or warehouse.connect(settings)
    return [r[0] for r in con.execute(sql, params.values).fetchall()]


def logo_path(settings) -> Path | None:
    """The report logo file configured (relative paths are under the data home), or None for the default."""
    portal = getattr(settings, "portal", None)
    logo = getattr(portal, "report_logo", "") if portal is not None else ""
    if not logo:
        return None
    path = Path(logo)
    if not path.is_absolute():
        path = settings.home / path
    return path


def _shape(report, filters, query: Query, names, rows, tr: Translator, hidden: int, options: ReportOptions):
    """Pick, label, mask and translate the output columns."""
    _ = tr.gettext

    def label(text: str) -> str:
        # labels may name an option's value ("Answered within {seconds} s")
        return _(text).format(seconds=tr.number(options.answer_within_s)) if "{" in text else _(text)

    picks: list[tuple[int, Column, str | None]] = []  # (source index, column, value-label table key)
    if report.kind == "list":
        for key in query.list_fields:
            f = FIELDS[key]
            picks.append((names.index(key), Column(key, _(f.label), f.kind), key if key in VALUE_LABELS else None))
        group_keys: tuple[str, ...] = ()
    elif report.kind == "table":
        for m in report.columns:
            if m.key in names:
                value_labels = m.key if m.key in VALUE_LABELS else None
                picks.append((names.index(m.key), Column(m.key, label(m.label), m.kind), value_labels))
        group_keys = tuple(k for k in report.label_columns if k in names)
    else:
        dims = dimensions(report, filters)
        if report.kind == "trend":
            from warehouse.reports.fields import GRANULARITY_LABELS

            unit = filters.granularity or "day"
            kind = "datetime" if unit == "hour" else "date"
            picks.append((names.index("g1"), Column("g1", _(GRANULARITY_LABELS[unit]), kind), None))
        elif dims:
            first = DIMENSIONS[dims[0]]
            picks.append((names.index("g1"), Column("g1", _(first.label), first.kind), dims[0]))
            if len(dims) == 1 and first.extra_sql and first.extra_label and "g1_extra" in names:
                picks.append((names.index("g1_extra"), Column("g1_extra", _(first.extra_label), "text"), None))
            if len(dims) > 1:
                second = DIMENSIONS[dims[1]]
                picks.append((names.index("g2"), Column("g2", _(second.label), second.kind), dims[1]))
        else:
            picks.append((names.index("g1"), Column("g1", _("Seconds to answer"), "text"), None))
        for m in report.columns:
            if m.key in names:
                picks.append((names.index(m.key), Column(m.key, label(m.label), m.kind), None))
        group_keys = tuple(c.key for _i, c, _l in picks if c.key in ("g1", "g2"))
    internal_at = names.index("_internal") if "_internal" in names else None
    if (
        report.kind != "list"
        and "g1_extra" in names
        and any(c.key == "g1" and c.kind == "phone" for _i, c, _l in picks)
    ):
        internal_at = names.index("g1_extra")
    out_rows = []
    for row in rows:
        values = []
        internal = bool(row[internal_at]) if internal_at is not None else False
        for index, column, labels in picks:
            value = row[index]
            if column.kind == "phone" and not internal:
                value = mask_number(value, hidden)
            if labels in VALUE_LABELS and value in VALUE_LABELS[labels]:
                value = _(VALUE_LABELS[labels][value])
            if column.key in ("g1", "g2") and value in (None, ""):
                value = _(NOT_SET)
            if column.key == "g1" and value == "missed":
                value = _("Not answered")
            if isinstance(value, float) and column.kind in ("money",):
                value = Decimal(str(value))
            values.append(value)
        out_rows.append(tuple(values))
    return [c for _i, c, _l in picks], out_rows, group_keys


def _totals(result: ReportResult) -> dict[str, object]:
    """Sums of the additive columns (calls, durations, cost) for a totals row."""
    totals: dict[str, object] = {}
    additive = {"int", "duration", "money"}
    average_like = ("avg_", "max_", "min_", "p90_", "p95_")
    for i, column in enumerate(result.columns):
        if column.kind not in additive or column.key.startswith(average_like) or column.key in ("g1", "g2"):
            continue
        values = [r[i] for r in result.rows if r[i] is not None]
        if values:
            totals[column.key] = sum(values[1:], values[0])
    return totals
