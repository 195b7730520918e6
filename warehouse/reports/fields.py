"""The allow-lists of the report engine: which `calls` columns a report may show, filter on or group by.

Only names from these tables are ever formatted into SQL; every value goes in as a bind parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.i18n import N_

# How a value is typed, formatted and exported.
KINDS = (
    "text",
    "phone",  # an external party's number: masked for the viewer's role
    "int",
    "decimal",
    "money",
    "duration",  # seconds
    "datetime",  # local time in the report's zone (naive)
    "date",
    "percent",  # a share, 0..1
    "bool",
)


@dataclass(frozen=True)
class Field:
    """A column of `calls` a person may see in a list, or put in an extra condition."""

    key: str
    label: str
    kind: str
    sql: str  # expression over the filtered calls (no table alias)
    condition: bool = True  # may appear in an extra condition


# A call's start as local time of the report's zone (the engine may compute it more cheaply, the same).
LOCAL_START = "timezone($zone, started_at)"

FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("started_at", N_("Date and time"), "datetime", LOCAL_START, condition=False),
        Field("extension", N_("Extension"), "text", "extension"),
        Field("user_name", N_("Name"), "text", "user_name"),
        Field("department", N_("Department"), "text", "department"),
        Field("cost_centre", N_("Cost centre"), "text", "cost_centre"),
        Field("site", N_("Site"), "text", "site"),
        Field("direction", N_("Direction"), "text", "direction"),
        Field("other_number", N_("Number"), "phone", "other_number"),
        Field("e164", N_("Number (E.164)"), "phone", "e164"),
        Field("gateway", N_("Gateway"), "text", "gateway"),
        Field("nation", N_("Nation"), "text", "nation"),
        Field("area", N_("Area"), "text", "area"),
        Field("destination_type", N_("Destination type"), "text", "destination_type"),
        Field("operator", N_("Operator"), "text", "operator"),
        Field("duration_s", N_("Duration"), "duration", "duration_s"),
        Field("ring_s", N_("Ring time"), "duration", "ring_s"),
        Field("cost", N_("Cost"), "money", "cost"),
        Field("currency", N_("Currency"), "text", "currency"),
        Field("answered", N_("Answered"), "bool", "answered"),
        Field("missed", N_("Missed"), "bool", "missed"),
        Field("cause_text", N_("End cause"), "text", "cause_text"),
        Field("hunt_pilot", N_("Hunt pilot"), "text", "hunt_pilot"),
        Field("transferred", N_("Transferred"), "bool", "transferred"),
        Field("forwarded", N_("Forwarded"), "bool", "forwarded"),
        Field("mos", N_("MOS"), "decimal", "mos"),
        Field("jitter_ms", N_("Jitter (ms)"), "int", "jitter_ms"),
        Field("latency_ms", N_("Latency (ms)"), "int", "latency_ms"),
        Field("packet_loss_pct", N_("Packet loss (%)"), "decimal", "packet_loss_pct"),
        Field("device", N_("Device"), "text", "device"),
        Field("rate_ref", N_("Rate"), "text", "rate_ref"),
    )
}

# What a call list shows when the person has not chosen fields.
DEFAULT_LIST_FIELDS = (
    "started_at",
    "extension",
    "user_name",
    "direction",
    "other_number",
    "destination_type",
    "duration_s",
    "cost",
    "gateway",
)


# a grouping without an extra column, grouped in parts (see Dimension.extra_in_parts)
NO_EXTRA_IN_PARTS = ("null as extra, null as extra_at", "null")


@dataclass(frozen=True)
class Dimension:
    """Something calls can be grouped by: an expression over the filtered calls and its label."""

    key: str
    label: str
    kind: str
    sql: str
    # a second column shown beside the key: `extra_value` at the group's latest call (e.g. the name of
    # whoever had the extension), or with extra_rule "all" whether it holds for every call of the group
    extra_value: str | None = None
    extra_label: str | None = None
    extra_rule: str = "latest"

    @property
    def extra_sql(self) -> str | None:
        """The extra column as an aggregate over a group's calls."""
        if self.extra_value is None:
            return None
        if self.extra_rule == "all":
            return f"bool_and({self.extra_value})"
        # arg_max passes over calls whose value is null
        return f"arg_max({self.extra_value}, started_at)"

    def extra_in_parts(self) -> tuple[str, str]:
        """The extra column when a group's calls are first grouped in parts: the columns each part
        carries (`extra`, `extra_at`), and the aggregate over the parts that gives the group's."""
        value = self.extra_value
        if value is None:
            return NO_EXTRA_IN_PARTS
        if self.extra_rule == "all":
            return f"bool_and({value}) as extra, null as extra_at", "bool_and(extra)"
        return (
            f"arg_max({value}, started_at) as extra, max(started_at) filter (where ({value}) is not null) as extra_at",
            "arg_max(extra, extra_at)",
        )


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("department", N_("Department"), "text", "department"),
        Dimension("cost_centre", N_("Cost centre"), "text", "cost_centre"),
        Dimension("extension", N_("Extension"), "text", "extension", "user_name", N_("Name")),
        Dimension("user_name", N_("Name"), "text", "user_name"),
        Dimension("site", N_("Site"), "text", "site"),
        Dimension("gateway", N_("Gateway"), "text", "gateway"),
        Dimension("nation", N_("Nation"), "text", "nation"),
        Dimension("area", N_("Area"), "text", "area"),
        Dimension("destination_type", N_("Destination type"), "text", "destination_type"),
        Dimension("operator", N_("Operator"), "text", "operator"),
        # for numbers, the extra column says whether the number is internal (internal numbers are not masked)
        Dimension("other_number", N_("Number"), "phone", "other_number", "direction = 'internal'", extra_rule="all"),
        Dimension("direction", N_("Direction"), "text", "direction"),
        Dimension("hunt_pilot", N_("Hunt pilot"), "text", "hunt_pilot"),
        Dimension("device", N_("Device"), "text", "device", "extension", N_("Extension")),
        Dimension("date", N_("Date"), "date", f"cast({LOCAL_START} as date)"),
        Dimension("hour", N_("Hour"), "int", f"hour({LOCAL_START})"),
        Dimension("weekday", N_("Weekday"), "int", f"isodow({LOCAL_START})"),
        Dimension("month", N_("Month"), "date", f"cast(date_trunc('month', {LOCAL_START}) as date)"),
    )
}

# Trend buckets (local time in the report's zone).
GRANULARITIES: dict[str, str] = {
    "hour": f"date_trunc('hour', {LOCAL_START})",
    "day": f"date_trunc('day', {LOCAL_START})",
    "week": f"date_trunc('week', {LOCAL_START})",
    "month": f"date_trunc('month', {LOCAL_START})",
}
GRANULARITY_LABELS = {"hour": N_("Hour"), "day": N_("Day"), "week": N_("Week"), "month": N_("Month")}

# Values the `direction` and `destination_type` columns take, with their labels.
DIRECTIONS = {
    "outgoing": N_("Outgoing"),
    "incoming": N_("Incoming"),
    "internal": N_("Internal"),
    "tandem": N_("Transit"),
}
DESTINATION_TYPES = {
    "internal": N_("Internal"),
    "local": N_("Local"),
    "national": N_("National"),
    "mobile": N_("Mobile"),
    "international": N_("International"),
    "toll_free": N_("Toll-free"),
    "premium": N_("Premium rate"),
    "emergency": N_("Emergency"),
    "special": N_("Special"),
    "unknown": N_("Unknown"),
}
# What became of an unanswered outside call, and whether the company called the number back.
UNANSWERED_OUTCOMES = {
    "voicemail": N_("Reached voicemail"),
    "abandoned": N_("Caller hung up"),
    "not_answered": N_("Rang out or busy"),
}
CALLBACK_STATUS = {
    "called_back": N_("Called back"),
    "tried": N_("Tried, not reached"),
    "not_yet": N_("Not called back yet"),
}
# Columns whose values are codes shown through a label table.
VALUE_LABELS = {
    "direction": DIRECTIONS,
    "destination_type": DESTINATION_TYPES,
    "outcome": UNANSWERED_OUTCOMES,
    "callback_status": CALLBACK_STATUS,
}
