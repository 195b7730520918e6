"""Report options (R2): a filter model that travels as JSON, its SQL condition and its description.

`Filters` is what a person sets under Options, what a personal report stores and what a scheduled
mail runs. `build_where()` turns it into one SQL condition with named bind parameters (field names
only from the allow-lists in `fields.py`); `describe()` writes it out in words for report headers
and for the [[FILTER]] placeholder of scheduled mail. Periods are calendar periods in the report's
time zone (daylight saving included), turned into UTC instants for the query.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse.i18n import N_, Translator
from warehouse.reports.fields import DESTINATION_TYPES, DIMENSIONS, FIELDS, GRANULARITIES, VALUE_LABELS

PERIODS: dict[str, str] = {
    "today": N_("Today"),
    "yesterday": N_("Yesterday"),
    "this_week": N_("This week"),
    "last_week": N_("Last week"),
    "last_7_days": N_("Last 7 days"),
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "last_30_days": N_("Last 30 days"),
    "this_quarter": N_("This quarter"),
    "last_quarter": N_("Last quarter"),
    "this_year": N_("This year"),
    "last_year": N_("Last year"),
    "last_12_months": N_("Last 12 months"),
    "all": N_("All time"),
    "custom": N_("Between two dates"),
}

TRAFFIC = {"all": N_("All calls"), "external": N_("External calls"), "internal": N_("Internal calls")}

# Call types (R2): each is a condition on direction and answer state; several are joined with OR.
CALL_TYPES: dict[str, tuple[str, str]] = {
    "outgoing_answered": (N_("Outgoing, answered"), "(c.direction = 'outgoing' and c.answered)"),
    "outgoing_unanswered": (N_("Outgoing, not answered"), "(c.direction = 'outgoing' and not c.answered)"),
    "incoming_answered": (N_("Incoming, answered"), "(c.direction = 'incoming' and c.answered)"),
    "incoming_missed": (N_("Incoming, missed"), "(c.direction = 'incoming' and c.missed)"),
    "internal_answered": (N_("Internal, answered"), "(c.direction = 'internal' and c.answered)"),
    "internal_unanswered": (N_("Internal, not answered"), "(c.direction = 'internal' and not c.answered)"),
    "forwarded": (N_("Forwarded"), "c.forwarded"),
    "transferred": (N_("Transferred"), "c.transferred"),
}

# Voice quality (X4): a call sounds poor when its MOS is under 3.5 or it lost more than 1 % of its packets
# (the same thresholds as the "Poor calls" of the quality reports, sql/quality.sql).
POOR_QUALITY_SQL = "(c.mos < 3.5 or c.packet_loss_pct > 1)"
MEASURED_SQL = (
    "(c.mos is not null or c.jitter_ms is not null or c.latency_ms is not null or c.packet_loss_pct is not null)"
)
QUALITY: dict[str, tuple[str, str | None]] = {
    "all": (N_("Any voice quality"), None),
    "measured": (N_("Calls with quality measurements"), MEASURED_SQL),
    "poor": (N_("Poor voice quality (MOS under 3.5 or packet loss over 1 %)"), POOR_QUALITY_SQL),
    "good": (N_("Good voice quality"), f"({MEASURED_SQL} and not coalesce({POOR_QUALITY_SQL}, false))"),
}

# Intervals of the concurrency reports: their length in seconds (a day is a local calendar day).
INTERVALS: dict[str, tuple[str, int]] = {
    "15min": (N_("15 minutes"), 900),
    "hour": (N_("Hour"), 3600),
    "day": (N_("Day"), 86400),
}
# Options only some reports take (their `options`), with the value a report uses when none is set.
DEFAULT_ANSWER_WITHIN_S = 20
DEFAULT_BLOCKING_PCT = 1.0
DEFAULT_BUSY_DAYS = 5
DEFAULT_INTERVAL = "hour"
REPORT_OPTIONS: dict[str, str] = {
    "answer_within_s": N_("Answered within (seconds)"),
    "interval": N_("Interval"),
    "blocking_pct": N_("Blocking aimed for (%)"),
    "busy_days": N_("Busy hours of the N busiest days"),
}

OPERATORS: dict[str, str] = {
    "eq": N_("equals"),
    "ne": N_("does not equal"),
    "gt": N_("greater than"),
    "ge": N_("greater than or equal to"),
    "lt": N_("less than"),
    "le": N_("less than or equal to"),
    "contains": N_("contains"),
    "not_contains": N_("does not contain"),
    "starts_with": N_("starts with"),
    "ends_with": N_("ends with"),
    "is_empty": N_("is empty"),
    "is_not_empty": N_("is not empty"),
}
_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_TEXT_OPS = {"contains", "not_contains", "starts_with", "ends_with"}
_UNARY = {"is_empty", "is_not_empty"}
_NUMERIC_KINDS = {"int", "decimal", "money", "duration", "percent"}


class FilterError(ValueError):
    """A report option is wrong; the message names the option and what is wrong with it."""


class Condition(BaseModel):
    """An extra condition on one field ('cost' 'ge' '1.50'), joined to the previous one by AND or OR."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: str = "eq"
    value: str = ""
    join: Literal["and", "or"] = "and"

    @field_validator("field")
    @classmethod
    def _field(cls, v: str) -> str:
        if v not in FIELDS or not FIELDS[v].condition:
            raise ValueError(f"unknown field {v!r} (one of {', '.join(k for k, f in FIELDS.items() if f.condition)})")
        return v

    @field_validator("op")
    @classmethod
    def _op(cls, v: str) -> str:
        if v not in OPERATORS:
            raise ValueError(f"unknown operator {v!r} (one of {', '.join(OPERATORS)})")
        return v


class Filters(BaseModel):
    """Every option of a report run; all optional, serialisable to and from JSON."""

    model_config = ConfigDict(extra="forbid")

    period: str = "this_month"
    date_from: date | None = None  # custom period, first local day (inclusive)
    date_to: date | None = None  # custom period, last local day (inclusive)
    traffic: Literal["all", "external", "internal"] = "all"
    gateways: list[str] = Field(default_factory=list)
    extensions: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    cost_centres: list[str] = Field(default_factory=list)
    # calls with these external numbers (Home's "click a number"); shown masked, never echoed back
    numbers: list[str] = Field(default_factory=list)
    call_types: list[str] = Field(default_factory=list)
    destination_types: list[str] = Field(default_factory=list)
    max_rows: int | None = Field(default=None, ge=1, le=1_000_000)
    conditions: list[Condition] = Field(default_factory=list)
    time_zone: str | None = None  # None: the viewer's zone
    fields: list[str] = Field(default_factory=list)  # call lists: the columns, in order
    group_by: list[str] = Field(default_factory=list)  # grouping reports with free dimensions (at most 2)
    granularity: Literal["hour", "day", "week", "month"] | None = None  # trend reports
    quality: Literal["all", "measured", "poor", "good"] = "all"  # voice quality (X4), any report
    answer_within_s: int | None = Field(default=None, ge=1, le=3600)  # incoming analysis: the answer target
    blocking_pct: float | None = Field(default=None, ge=0.01, le=50)  # Erlang B: the blocking aimed for, in %
    interval: Literal["15min", "hour", "day"] | None = None  # concurrent calls: the interval of each peak
    busy_days: int | None = Field(default=None, ge=1, le=366)  # Erlang B: busy hours of the N busiest days

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        if v not in PERIODS:
            raise ValueError(f"unknown period {v!r} (one of {', '.join(PERIODS)})")
        return v

    @field_validator("call_types")
    @classmethod
    def _call_types(cls, v: list[str]) -> list[str]:
        for item in v:
            if item not in CALL_TYPES:
                raise ValueError(f"unknown call type {item!r} (one of {', '.join(CALL_TYPES)})")
        return v

    @field_validator("destination_types")
    @classmethod
    def _destinations(cls, v: list[str]) -> list[str]:
        for item in v:
            if item not in DESTINATION_TYPES:
                raise ValueError(f"unknown destination type {item!r} (one of {', '.join(DESTINATION_TYPES)})")
        return v

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        for item in v:
            if item not in FIELDS:
                raise ValueError(f"unknown field {item!r} (one of {', '.join(FIELDS)})")
        return list(dict.fromkeys(v))

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, v: list[str]) -> list[str]:
        for item in v:
            if item not in DIMENSIONS:
                raise ValueError(f"unknown grouping {item!r} (one of {', '.join(DIMENSIONS)})")
        v = list(dict.fromkeys(v))
        if len(v) > 2:
            raise ValueError("at most two groupings")
        return v

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v:
            try:
                zoneinfo.ZoneInfo(v)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}") from None
        return v or None

    @model_validator(mode="after")
    def _custom(self) -> Filters:
        if self.period == "custom":
            if self.date_from is None or self.date_to is None:
                raise ValueError("a period between two dates needs date_from and date_to")
            if self.date_to < self.date_from:
                raise ValueError(f"date_to {self.date_to} is before date_from {self.date_from}")
        return self

    # --- JSON -------------------------------------------------------------------------------------
    def to_json(self) -> str:
        """The options as JSON, leaving out what is at its default."""
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str | None, where: str = "filter") -> Filters:
        """Options from JSON; FilterError says which option is wrong and why."""
        if not text or not text.strip():
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise FilterError(f"{where}: {_errors(exc)}") from None

    def merged(self, **changes) -> Filters:
        """A copy with some options changed (validated again)."""
        data = self.model_dump()
        data.update(changes)
        try:
            return Filters.model_validate(data)
        except ValidationError as exc:
            raise FilterError(_errors(exc)) from None


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc or 'options'}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


# --- periods --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A period in local days [first, end) of a zone, and the same as UTC instants."""

    first: date | None
    end: date | None  # exclusive
    start_utc: datetime | None
    end_utc: datetime | None

    @property
    def last(self) -> date | None:
        """The last local day in the period."""
        return None if self.end is None else self.end - timedelta(days=1)


def local_midnight_utc(day: date, zone: str) -> datetime:
    """The UTC instant of local midnight starting `day` in `zone` (correct across DST changes)."""
    return datetime.combine(day, time(0), tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)


def _month_start(d: date, back: int = 0) -> date:
    month = d.month - 1 - back
    return date(d.year + month // 12, month % 12 + 1, 1)


def period_days(period: str, today: date, date_from: date | None = None, date_to: date | None = None):
    """The local days [first, end) of a named period relative to `today` (None, None for all time)."""
    if period == "today":
        return today, today + timedelta(days=1)
    if period == "yesterday":
        return today - timedelta(days=1), today
    if period == "this_week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=7)
    if period == "last_week":
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday
    if period == "last_7_days":
        return today - timedelta(days=6), today + timedelta(days=1)
    if period == "this_month":
        return _month_start(today), _month_start(today, -1)
    if period == "last_month":
        return _month_start(today, 1), _month_start(today)
    if period == "last_30_days":
        return today - timedelta(days=29), today + timedelta(days=1)
    if period in ("this_quarter", "last_quarter"):
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if period == "last_quarter":
            first = _month_start(first, 3)
        return first, _month_start(first, -3)
    if period == "this_year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year, 1, 1)
    if period == "last_12_months":
        return _month_start(today, 11), _month_start(today, -1)
    if period == "custom":
        if date_from is None or date_to is None:
            raise FilterError("a period between two dates needs date_from and date_to")
        return date_from, date_to + timedelta(days=1)
    if period == "all":
        return None, None
    raise FilterError(f"unknown period {period!r}")


def resolve_period(filters: Filters, zone: str, now: datetime | None = None) -> Period:
    """The filter's period in the zone, as local days and UTC instants."""
    now = now or datetime.now(UTC)
    today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
    first, end = period_days(filters.period, today, filters.date_from, filters.date_to)
    if first is None or end is None:
        return Period(None, None, None, None)
    return Period(first, end, local_midnight_utc(first, zone), local_midnight_utc(end, zone))


# --- SQL --------------------------------------------------------------------------------------------


class Params:
    """Named bind parameters, collected while a query is built."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object, prefix: str = "p") -> str:
        """Register a value; returns its placeholder ('$p3')."""
        name = f"{prefix}{len(self.values)}"
        self.values[name] = value
        return "$" + name

    def many(self, values: list) -> str:
        """Placeholders for an IN list."""
        return ", ".join(self.add(v) for v in values)


def _typed_value(field_key: str, kind: str, raw: str):
    text = raw.strip()
    if kind in _NUMERIC_KINDS:
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise FilterError(f"condition on {field_key}: {raw!r} is not a number") from None
        return int(number) if kind in ("int", "duration") and number == number.to_integral() else number
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "y"):
            return True
        if lowered in ("false", "no", "0", "n"):
            return False
        raise FilterError(f"condition on {field_key}: {raw!r} is not yes/no (true or false)")
    return text


def condition_sql(cond: Condition, params: Params, alias: str = "c") -> str:
    """One extra condition as SQL (column from the allow-list, value bound)."""
    f = FIELDS[cond.field]
    col = f"{alias}.{f.key}"
    if cond.op in _UNARY:
        empty = f"({col} is null" + (f" or {col} = ''" if f.kind in ("text", "phone") else "") + ")"
        return empty if cond.op == "is_empty" else f"not {empty}"
    if cond.op in _TEXT_OPS:
        if f.kind in _NUMERIC_KINDS or f.kind == "bool":
            raise FilterError(f"condition on {cond.field}: '{cond.op}' works on text fields only")
        p = params.add(cond.value.strip())
        expr = {
            "contains": f"contains(lower({col}), lower({p}))",
            "not_contains": f"not coalesce(contains(lower({col}), lower({p})), false)",
            "starts_with": f"starts_with(lower({col}), lower({p}))",
            "ends_with": f"ends_with(lower({col}), lower({p}))",
        }[cond.op]
        return expr
    value = _typed_value(cond.field, f.kind, cond.value)
    if f.kind == "bool" and cond.op not in ("eq", "ne"):
        raise FilterError(f"condition on {cond.field}: yes/no fields take 'equals' or 'does not equal'")
    op = _COMPARE[cond.op]
    p = params.add(value)
    if cond.op == "ne":
        return f"({col} is distinct from {p})"
    return f"{col} {op} {p}"


def conditions_sql(conditions: list[Condition], params: Params, alias: str = "c") -> str | None:
    """The extra conditions joined left to right by their AND/OR (AND binds tighter, as in SQL)."""
    if not conditions:
        return None
    text = condition_sql(conditions[0], params, alias)
    for cond in conditions[1:]:
        text += f" {cond.join} " + condition_sql(cond, params, alias)
    return f"({text})"


def build_where(
    filters: Filters,
    period: Period,
    params: Params,
    alias: str = "c",
    *,
    carrier: bool = False,
    lookback: timedelta = timedelta(0),
) -> list[str]:
    """The filter's conditions on `calls` (joined by AND by the caller).

    Call reports read the rows that count as calls; `carrier` reports read every row that rode on a
    gateway or trunk leg instead (transit legs and conference legs hold channels too), and with a
    `lookback` also the legs that started that long before the period (they may still be up in it).
    """
    a = alias
    parts = [f"{a}.trunk_leg_id is not null" if carrier else f"{a}.counted"]
    if period.start_utc is not None and period.end_utc is not None:
        start = period.start_utc - lookback
        # `day` is the UTC day partition: naming it lets the scan skip every other day's files
        parts.append(f"{a}.day >= {params.add(start.date())}")
        parts.append(f"{a}.day <= {params.add((period.end_utc - timedelta(microseconds=1)).date())}")
        parts.append(f"{a}.started_at >= {params.add(start)}")
        parts.append(f"{a}.started_at < {params.add(period.end_utc)}")
    if filters.traffic == "external":
        parts.append(f"{a}.direction in ('outgoing', 'incoming', 'tandem')")
    elif filters.traffic == "internal":
        parts.append(f"{a}.direction = 'internal'")
    for column, values in (
        ("gateway", filters.gateways),
        ("extension", filters.extensions),
        ("department", filters.departments),
        ("cost_centre", filters.cost_centres),
        ("destination_type", filters.destination_types),
        ("other_number", filters.numbers),
    ):
        if values:
            parts.append(f"{a}.{column} in ({params.many(list(values))})")
    if filters.call_types:
        parts.append("(" + " or ".join(CALL_TYPES[t][1].replace("c.", f"{a}.") for t in filters.call_types) + ")")
    quality = QUALITY[filters.quality][1]
    if quality:
        parts.append(quality.replace("c.", f"{a}."))
    extra = conditions_sql(filters.conditions, params, a)
    if extra:
        parts.append(extra)
    return parts


def scope_sql(scope, params: Params, alias: str = "c") -> str:
    """The access scope (warehouse.access.ScopeFilter, '?' placeholders) with named parameters."""
    pieces = scope.where(alias).split("?")
    if len(pieces) - 1 != len(scope.params):
        raise ValueError("scope filter placeholders do not match its parameters")
    out = pieces[0]
    for value, piece in zip(scope.params, pieces[1:], strict=True):
        out += params.add(value, "s") + piece
    return out


# --- description --------------------------------------------------------------------------------------


def describe(
    filters: Filters,
    tr: Translator,
    zone: str,
    period: Period | None = None,
    hidden_digits: int = 0,
) -> str:
    """The options in words, in the reader's language (report headers, mail's [[FILTER]])."""
    from warehouse.access import mask_number

    _ = tr.gettext
    parts: list[str] = []
    period = period or resolve_period(filters, zone)
    if filters.period == "all":
        parts.append(_("Period: all time"))
    else:
        label = _(PERIODS[filters.period])
        span = f"{tr.date(period.first)} – {tr.date(period.last)}"
        parts.append(_("Period: {period} ({span})").format(period=label, span=span))
    parts.append(_("Time zone: {zone}").format(zone=zone))
    if filters.traffic != "all":
        parts.append(_(TRAFFIC[filters.traffic]))
    lists = (
        (N_("Gateways"), filters.gateways, None),
        (N_("Extensions"), filters.extensions, None),
        (N_("Departments"), filters.departments, None),
        (N_("Cost centres"), filters.cost_centres, None),
        (N_("Call types"), filters.call_types, {k: v[0] for k, v in CALL_TYPES.items()}),
        (N_("Destinations"), filters.destination_types, DESTINATION_TYPES),
    )
    for title, values, labels in lists:
        if values:
            shown = [_(labels[v]) if labels else v for v in values]
            parts.append(f"{_(title)}: {', '.join(shown)}")
    if filters.numbers:
        masked = [mask_number(n, hidden_digits) or "" for n in filters.numbers]
        parts.append(_("Calls with: {numbers}").format(numbers=", ".join(masked)))
    if filters.conditions:
        texts = []
        for i, cond in enumerate(filters.conditions):
            f = FIELDS[cond.field]
            value = cond.value
            if f.kind == "phone":
                value = mask_number(value, hidden_digits) or ""
            elif cond.field in VALUE_LABELS and value in VALUE_LABELS[cond.field]:
                value = _(VALUE_LABELS[cond.field][value])
            text = f"{_(f.label)} {_(OPERATORS[cond.op])}"
            if cond.op not in _UNARY:
                text += f" “{value}”"
            if i:
                text = (_("and") if cond.join == "and" else _("or")) + " " + text
            texts.append(text)
        parts.append(_("Conditions: {conditions}").format(conditions=" ".join(texts)))
    if filters.group_by:
        parts.append(
            _("Grouped by: {fields}").format(fields=", ".join(_(DIMENSIONS[g].label) for g in filters.group_by))
        )
    if filters.granularity:
        from warehouse.reports.fields import GRANULARITY_LABELS

        parts.append(_("Per: {unit}").format(unit=_(GRANULARITY_LABELS[filters.granularity])))
    if filters.quality != "all":
        parts.append(_(QUALITY[filters.quality][0]))
    if filters.answer_within_s:
        parts.append(_("Answer target: {seconds} s").format(seconds=tr.number(filters.answer_within_s)))
    if filters.interval:
        parts.append(_("Interval: {interval}").format(interval=_(INTERVALS[filters.interval][0])))
    if filters.blocking_pct:
        parts.append(_("Blocking aimed for: {percent}").format(percent=tr.percent(filters.blocking_pct / 100)))
    if filters.busy_days:
        parts.append(
            tr.ngettext(
                "Busy-hour traffic from the {n} busiest day",
                "Busy-hour traffic from the {n} busiest days",
                filters.busy_days,
            ).format(n=tr.number(filters.busy_days))
        )
    if filters.max_rows:
        parts.append(_("At most {n} rows").format(n=tr.number(filters.max_rows)))
    return "; ".join(parts)


def granularity_sql(key: str) -> str:
    """The bucket expression of a trend granularity (from the allow-list)."""
    return GRANULARITIES[key]
