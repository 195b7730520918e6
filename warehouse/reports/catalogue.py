"""The public report catalogue (R1): categories, and each report's question, query, columns and chart.

A report is a `.sql` file in `warehouse/reports/sql/` plus a `ReportDef` here. To add one, write the
query (it reads `{{calls}}`, the scoped and filtered calls, and takes `$zone` and `$limit`) and call
`register(ReportDef(...))` from any module imported at start-up, or add it to `_BUILT_IN` below.
Every string shown to people is marked with N_() and translated where it is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from warehouse.capacity import size_gateways
from warehouse.i18n import N_
from warehouse.reports.filters import REPORT_OPTIONS, Filters


@dataclass(frozen=True)
class Category:
    """A group of reports in the catalogue, shown in `order`."""

    key: str
    title: str
    order: int


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("call_monitor", N_("Call Monitor"), 1),
        Category("incoming", N_("Incoming Call Analysis"), 2),
        Category("cost", N_("Cost Analysis"), 3),
        Category("group", N_("Group Analysis"), 4),
        Category("quality", N_("Call Quality"), 5),
        Category("capacity", N_("Capacity"), 6),
    )
}


@dataclass(frozen=True)
class Measure:
    """An output column of a report query: its name in the SQL, label and kind (see fields.KINDS)."""

    key: str
    label: str
    kind: str


@dataclass(frozen=True)
class Chart:
    """How a grouping is drawn: bar, pie, line or stacked bars of `y` (first non-empty measure) by g1."""

    kind: str = "bar"
    y: tuple[str, ...] = ("cost", "calls")  # the first measure with any value is drawn
    stacked: tuple[str, ...] = ()  # for 'stacked' / multi-line: several measures at once
    top: int = 15  # bars or slices at most (the rest is summed as 'Other' in pies)


# Incoming call analysis (answer_rate.sql per line, hunt_pilots.sql per hunt pilot): calls offered and
# what became of them; `answered + abandoned + overflowed + not_answered = offered`.
INCOMING = (
    Measure("offered", N_("Offered"), "int"),
    Measure("answered", N_("Answered"), "int"),
    Measure("answer_rate", N_("Answer rate"), "percent"),
    Measure("answered_within", N_("Answered within {seconds} s"), "int"),
    Measure("service_level", N_("Share answered within {seconds} s"), "percent"),
    Measure("avg_answer_s", N_("Average time to answer"), "duration"),
    Measure("p90_answer_s", N_("90th percentile time to answer"), "duration"),
    Measure("max_answer_s", N_("Longest time to answer"), "duration"),
    Measure("abandoned", N_("Abandoned"), "int"),
    Measure("overflowed", N_("Overflowed"), "int"),
    Measure("not_answered", N_("Rang out or busy"), "int"),
    Measure("avg_abandon_s", N_("Average wait before giving up"), "duration"),
)

# Output columns of each query shape (group queries also return g1, g2, g1_extra).
SHAPES: dict[str, tuple[Measure, ...]] = {
    "group_cost.sql": (
        Measure("calls", N_("Calls"), "int"),
        Measure("duration_s", N_("Duration"), "duration"),
        Measure("avg_duration_s", N_("Average duration"), "duration"),
        Measure("cost", N_("Cost"), "money"),
        Measure("avg_cost", N_("Average cost"), "money"),
        Measure("cost_share", N_("Share of cost"), "percent"),
    ),
    "group_traffic.sql": (
        Measure("calls", N_("Calls"), "int"),
        Measure("outgoing", N_("Outgoing"), "int"),
        Measure("incoming", N_("Incoming"), "int"),
        Measure("internal", N_("Internal"), "int"),
        Measure("answered", N_("Answered"), "int"),
        Measure("missed", N_("Missed"), "int"),
        Measure("duration_s", N_("Duration"), "duration"),
        Measure("avg_duration_s", N_("Average duration"), "duration"),
        Measure("cost", N_("Cost"), "money"),
    ),
    "call_status.sql": (
        Measure("calls", N_("Calls"), "int"),
        Measure("answered", N_("Answered"), "int"),
        Measure("missed", N_("Missed"), "int"),
        Measure("not_answered", N_("Not answered"), "int"),
        Measure("answer_rate", N_("Answer rate"), "percent"),
    ),
    "time_to_answer.sql": (
        Measure("calls", N_("Calls"), "int"),
        Measure("share", N_("Share"), "percent"),
        Measure("cumulative_share", N_("Answered so far"), "percent"),
    ),
    "trend.sql": (
        Measure("calls", N_("Calls"), "int"),
        Measure("outgoing", N_("Outgoing"), "int"),
        Measure("incoming", N_("Incoming"), "int"),
        Measure("internal", N_("Internal"), "int"),
        Measure("missed", N_("Missed"), "int"),
        Measure("duration_s", N_("Duration"), "duration"),
        Measure("cost", N_("Cost"), "money"),
    ),
    "quality.sql": (
        Measure("calls", N_("Calls measured"), "int"),
        Measure("avg_mos", N_("Average MOS"), "decimal"),
        Measure("min_mos", N_("Lowest MOS"), "decimal"),
        Measure("low_mos_share", N_("Share under MOS 3.5"), "percent"),
        Measure("avg_jitter_ms", N_("Average jitter (ms)"), "decimal"),
        Measure("p95_jitter_ms", N_("95th percentile jitter (ms)"), "decimal"),
        Measure("avg_latency_ms", N_("Average latency (ms)"), "decimal"),
        Measure("p95_latency_ms", N_("95th percentile latency (ms)"), "decimal"),
        Measure("avg_loss_pct", N_("Average packet loss (%)"), "decimal"),
        Measure("p95_loss_pct", N_("95th percentile packet loss (%)"), "decimal"),
        Measure("poor", N_("Poor calls"), "int"),
        Measure("poor_share", N_("Share of poor calls"), "percent"),
    ),
    "answer_rate.sql": INCOMING,
    "hunt_pilots.sql": INCOMING,
}

# Sort orders a call list may use (allow-list).
ORDERS = {
    "newest": "started_at desc",
    "oldest": "started_at",
    "longest": "duration_s desc nulls last, started_at desc",
    "costliest": "cost desc nulls last, started_at desc",
    "person": "user_name nulls last, extension, started_at",
    "worst_quality": "mos nulls last, packet_loss_pct desc nulls last, started_at desc",
}


@dataclass(frozen=True)
class ReportDef:
    """One catalogue report."""

    name: str  # stable identifier (CLI, saved reports, history)
    category: str
    title: str
    question: str
    sql: str  # file in warehouse/reports/sql (or an absolute path for reports shipped elsewhere)
    kind: str = "group"  # 'list' (call by call), 'group' (rows per dimension), 'trend' (rows per time bucket)
    dimensions: tuple[str, ...] = ()  # fixed groupings; empty with custom_groups: from Filters.group_by
    custom_groups: bool = False
    defaults: Filters = field(default_factory=Filters)
    order: str = "newest"  # list reports: key of ORDERS
    # 'table' reports of the newest calls: the column of each row's start (local time), by which the
    # rows are sorted newest first and cut; the engine then reads the period's last days first
    newest_first: str | None = None
    chart: Chart | None = Chart()
    own_extensions: bool = False  # only the person's own extensions, whatever their role
    totals: bool = True  # show a totals row
    measures: tuple[Measure, ...] | None = None  # when the query's columns are not one of SHAPES
    # 'carrier': read every row that rode on a gateway or trunk leg (counted or not), not the counted calls
    rows: str = "counted"
    lookback_days: int = 0  # also read rows that started this many days before the period (legs still up in it)
    # read {{context}}: every call (unscoped, unfiltered) from `before` days before the period to `after`
    # days after it, to tell what became of a call the person sees (overflow, call-back); nothing of it is shown
    context_days: tuple[int, int] | None = None
    # the same report from what the calls build stores (the quarter-hour rollups, the pilot offers),
    # for a reader who may see every call and sets no option but the period and the traffic
    # (warehouse.reports.engine.reads_rollup); `rollup_days` is the column of `derived_days` that
    # says a day has it stored
    rollup_sql: str | None = None
    rollup_days: str = "quarter_hours"
    options: tuple[str, ...] = ()  # report-specific options it takes (filters.REPORT_OPTIONS)
    # a pure computation on the query's rows (dicts) before they are shown, given the run's ReportOptions
    compute: Callable[[list[dict], object], list[dict]] | None = None
    label_columns: tuple[str, ...] = ()  # 'table' reports: the columns that name a row (for charts)

    @property
    def columns(self) -> tuple[Measure, ...]:
        """The measure columns of the query."""
        if self.measures is not None:
            return self.measures
        return SHAPES.get(self.sql, ())


_REGISTRY: dict[str, ReportDef] = {}


def register(report: ReportDef) -> ReportDef:
    """Add (or replace) a report in the catalogue."""
    if report.category not in CATEGORIES:
        raise ValueError(f"report {report.name!r}: unknown category {report.category!r}")
    if report.kind not in ("list", "group", "trend", "table"):
        raise ValueError(f"report {report.name!r}: kind must be list, group, trend or table")
    if report.rows not in ("counted", "carrier"):
        raise ValueError(f"report {report.name!r}: rows must be counted or carrier")
    unknown = set(report.options) - set(REPORT_OPTIONS)
    if unknown:
        raise ValueError(
            f"report {report.name!r}: unknown options {sorted(unknown)} (one of {', '.join(REPORT_OPTIONS)})"
        )
    if report.kind == "list" and report.order not in ORDERS:
        raise ValueError(f"report {report.name!r}: unknown order {report.order!r}")
    _REGISTRY[report.name] = report
    return report


def register_category(category: Category) -> Category:
    """Add a catalogue category."""
    CATEGORIES[category.key] = category
    return category


def catalogue() -> list[ReportDef]:
    """Every report, by category order then as registered."""
    order = {k: c.order for k, c in CATEGORIES.items()}
    return sorted(_REGISTRY.values(), key=lambda r: order.get(r.category, 99))


def get(name: str) -> ReportDef:
    """The report of this name; KeyError lists the names there are."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no report named {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def _cost(name: str, title: str, question: str, dim: str, chart: str = "bar") -> ReportDef:
    return ReportDef(name, "cost", title, question, "group_cost.sql", dimensions=(dim,), chart=Chart(kind=chart))


def _quality(name: str, title: str, question: str, dim: str, y: str = "avg_mos") -> ReportDef:
    return ReportDef(
        name,
        "quality",
        title,
        question,
        "quality.sql",
        dimensions=(dim,),
        chart=Chart(kind="bar", y=(y,)),
        totals=False,
    )


def _erlang_sizing(rows: list[dict], options) -> list[dict]:
    """Channels needed and blocking per gateway (warehouse.capacity), for the run's blocking target."""
    return size_gateways(rows, options.blocking)


_MISSED = ["incoming_missed", "outgoing_unanswered", "internal_unanswered"]

_BUILT_IN = [
    # 1 Call Monitor
    ReportDef(
        "call_list",
        "call_monitor",
        N_("Call list"),
        N_("Which calls were made and received, one by one?"),
        "call_list.sql",
        kind="list",
        chart=None,
    ),
    ReportDef(
        "unanswered_calls",
        "call_monitor",
        N_("Unanswered calls"),
        N_("Which calls did nobody answer, and who was called?"),
        "call_list.sql",
        kind="list",
        defaults=Filters(call_types=_MISSED),
        chart=None,
    ),
    ReportDef(
        "longest_calls",
        "call_monitor",
        N_("Longest calls"),
        N_("Which calls lasted longest?"),
        "call_list.sql",
        kind="list",
        order="longest",
        defaults=Filters(max_rows=100),
        chart=None,
    ),
    ReportDef(
        "call_status_by_day",
        "call_monitor",
        N_("Call status by day"),
        N_("How many calls were answered, missed or not answered each day?"),
        "call_status.sql",
        dimensions=("date",),
        defaults=Filters(period="last_7_days"),
        chart=Chart(kind="stacked", stacked=("answered", "missed", "not_answered"), top=62),
    ),
    ReportDef(
        "call_status_by_department",
        "call_monitor",
        N_("Call status by department"),
        N_("How many calls did each department answer, miss or leave unanswered?"),
        "call_status.sql",
        dimensions=("department",),
        defaults=Filters(period="today"),
        chart=Chart(kind="stacked", stacked=("answered", "missed", "not_answered")),
    ),
    ReportDef(
        "call_status_by_area",
        "call_monitor",
        N_("Call status by area"),
        N_("How did calls to and from each area end?"),
        "call_status.sql",
        dimensions=("area",),
        defaults=Filters(period="today", traffic="external"),
        chart=Chart(kind="stacked", stacked=("answered", "missed", "not_answered")),
    ),
    # 2 Incoming Call Analysis
    ReportDef(
        "answer_rate_by_extension",
        "incoming",
        N_("Answer rate by extension"),
        N_("How many of the calls to each extension were answered, and how fast?"),
        "answer_rate.sql",
        dimensions=("extension",),
        context_days=(0, 1),
        options=("answer_within_s",),
        chart=Chart(kind="bar", y=("answer_rate",)),
    ),
    ReportDef(
        "answer_rate_by_hunt_pilot",
        "incoming",
        N_("Answer rate by hunt pilot"),
        N_("How well are the calls to each hunt group answered?"),
        "hunt_pilots.sql",
        dimensions=("hunt_pilot",),
        context_days=(1, 1),
        rollup_sql="hunt_pilots_stored.sql",
        rollup_days="pilot_offers",
        options=("answer_within_s",),
        chart=Chart(kind="stacked", stacked=("answered", "abandoned", "overflowed", "not_answered")),
    ),
    ReportDef(
        "time_to_answer",
        "incoming",
        N_("Time to answer"),
        N_("How long do callers wait before someone answers?"),
        "time_to_answer.sql",
        chart=Chart(kind="bar", y=("calls",)),
        totals=False,
    ),
    ReportDef(
        "incoming_by_hour",
        "incoming",
        N_("Incoming calls by hour"),
        N_("At what time of day do calls come in, and when are they missed?"),
        "answer_rate.sql",
        dimensions=("hour",),
        defaults=Filters(traffic="external"),
        context_days=(0, 1),
        options=("answer_within_s",),
        chart=Chart(kind="stacked", stacked=("answered", "abandoned", "overflowed", "not_answered"), top=24),
    ),
    ReportDef(
        "unanswered_callbacks",
        "incoming",
        N_("Unanswered calls and call-backs"),
        N_("Which outside callers did nobody answer, and did we call them back?"),
        "unanswered_callbacks.sql",
        kind="table",
        context_days=(0, 8),
        newest_first="started_at",
        measures=(
            Measure("started_at", N_("Date and time"), "datetime"),
            Measure("other_number", N_("Number"), "phone"),
            Measure("called_number", N_("Number dialled"), "text"),
            Measure("hunt_pilot", N_("Hunt pilot"), "text"),
            Measure("extension", N_("Extension"), "text"),
            Measure("user_name", N_("Name"), "text"),
            Measure("wait_s", N_("Waited"), "duration"),
            Measure("outcome", N_("Outcome"), "text"),
            Measure("callback_status", N_("Call-back"), "text"),
            Measure("callback_minutes", N_("Minutes to call-back"), "int"),
        ),
        chart=None,
        totals=False,
    ),
    # 3 Cost Analysis
    ReportDef(
        "phone_bill",
        "cost",
        N_("Phone bill"),
        N_("What did each person's outside calls cost, call by call?"),
        "call_list.sql",
        kind="list",
        order="person",
        defaults=Filters(
            period="last_month",
            call_types=["outgoing_answered"],
            fields=[
                "user_name",
                "extension",
                "started_at",
                "other_number",
                "destination_type",
                "nation",
                "duration_s",
                "cost",
            ],
        ),
        chart=None,
    ),
    _cost(
        "cost_by_area",
        N_("Group cost by area"),
        N_("Which areas do our calls cost the most to?"),
        "area",
    ),
    _cost(
        "cost_by_department",
        N_("Group cost by department"),
        N_("What does each department spend on calls?"),
        "department",
    ),
    _cost(
        "cost_by_extension",
        N_("Group cost by extension"),
        N_("Which extensions cost the most?"),
        "extension",
    ),
    _cost(
        "cost_by_operator",
        N_("Group cost by operator"),
        N_("Which carriers' networks do we pay to reach?"),
        "operator",
    ),
    _cost(
        "cost_by_cost_centre",
        N_("Group cost by cost centre"),
        N_("What should each cost centre be charged?"),
        "cost_centre",
    ),
    _cost(
        "cost_by_gateway",
        N_("Group cost by gateway"),
        N_("What do the calls through each gateway or trunk cost?"),
        "gateway",
    ),
    _cost(
        "cost_by_nation",
        N_("Group cost by nation"),
        N_("Which countries do we call, and at what cost?"),
        "nation",
    ),
    _cost(
        "cost_by_number",
        N_("Group cost by number"),
        N_("Which numbers cost us the most?"),
        "other_number",
    ),
    _cost(
        "cost_by_destination_type",
        N_("Group cost by destination type"),
        N_("How is spending split between local, national, mobile and international calls?"),
        "destination_type",
        chart="pie",
    ),
    ReportDef(
        "cost_by_hour",
        "cost",
        N_("Cost by hour of day"),
        N_("At what time of day is money spent on calls?"),
        "group_cost.sql",
        dimensions=("hour",),
        defaults=Filters(period="today"),
        chart=Chart(kind="bar", top=24),
    ),
    ReportDef(
        "cost_by_date",
        "cost",
        N_("Cost by date"),
        N_("How much was spent on each day?"),
        "group_cost.sql",
        dimensions=("date",),
        defaults=Filters(period="this_week"),
        chart=Chart(kind="bar", top=62),
    ),
    # 4 Group Analysis
    ReportDef(
        "traffic_by_department",
        "group",
        N_("Group by department"),
        N_("How much does each department call, and how much is answered?"),
        "group_traffic.sql",
        dimensions=("department",),
        chart=Chart(kind="stacked", stacked=("outgoing", "incoming", "internal")),
    ),
    ReportDef(
        "traffic_by_cost_centre",
        "group",
        N_("Group by cost centre"),
        N_("How much traffic does each cost centre have?"),
        "group_traffic.sql",
        dimensions=("cost_centre",),
        chart=Chart(kind="stacked", stacked=("outgoing", "incoming", "internal")),
    ),
    ReportDef(
        "traffic_by_department_extension",
        "group",
        N_("Group by department and extension"),
        N_("Within each department, which extensions carry the traffic?"),
        "group_traffic.sql",
        dimensions=("department", "extension"),
        chart=Chart(kind="stacked", stacked=("outgoing", "incoming", "internal")),
    ),
    ReportDef(
        "traffic_by_custom",
        "group",
        N_("Group by two fields of your choice"),
        N_("How does traffic split over any two fields, such as site and destination type?"),
        "group_traffic.sql",
        custom_groups=True,
        defaults=Filters(group_by=["site", "direction"]),
        chart=Chart(kind="stacked", stacked=("outgoing", "incoming", "internal")),
    ),
    ReportDef(
        "trend",
        "group",
        N_("Trend analysis"),
        N_("How do calls, minutes and cost change over time?"),
        "trend.sql",
        kind="trend",
        rollup_sql="trend_rollup.sql",
        defaults=Filters(period="last_12_months", granularity="month"),
        chart=Chart(kind="line", stacked=("outgoing", "incoming", "internal"), top=400),
    ),
    ReportDef(
        "personal_traffic",
        "group",
        N_("My traffic"),
        N_("How many calls did I make and receive each day?"),
        "trend.sql",
        kind="trend",
        own_extensions=True,
        defaults=Filters(period="last_30_days", granularity="day"),
        chart=Chart(kind="stacked", stacked=("outgoing", "incoming", "internal"), top=400),
    ),
    # 5 Call Quality (CMR)
    ReportDef(
        "quality_by_gateway",
        "quality",
        N_("Call quality by gateway"),
        N_("Which gateways and trunks carry calls of poor voice quality?"),
        "quality.sql",
        dimensions=("gateway",),
        chart=Chart(kind="bar", y=("avg_mos",)),
        totals=False,
    ),
    ReportDef(
        "quality_by_extension",
        "quality",
        N_("Call quality by extension"),
        N_("Which phones have poor voice quality?"),
        "quality.sql",
        dimensions=("extension",),
        chart=Chart(kind="bar", y=("poor",)),
        totals=False,
    ),
    _quality(
        "quality_by_site",
        N_("Call quality by site"),
        N_("Which offices have calls of poor voice quality?"),
        "site",
    ),
    _quality(
        "quality_by_department",
        N_("Call quality by department"),
        N_("Which departments suffer calls of poor voice quality?"),
        "department",
    ),
    _quality(
        "quality_by_device",
        N_("Call quality by device"),
        N_("Which phones and soft clients report poor voice quality?"),
        "device",
        y="poor",
    ),
    ReportDef(
        "poor_quality_calls",
        "quality",
        N_("Poor quality calls"),
        N_("Which calls had the worst voice quality?"),
        "call_list.sql",
        kind="list",
        order="worst_quality",
        defaults=Filters(
            quality="poor",
            max_rows=500,
            fields=[
                "started_at",
                "extension",
                "user_name",
                "other_number",
                "gateway",
                "mos",
                "jitter_ms",
                "latency_ms",
                "packet_loss_pct",
                "device",
                "duration_s",
            ],
        ),
        chart=None,
    ),
    # 6 Capacity (X5): gateway and trunk channels
    ReportDef(
        "gateway_utilisation",
        "capacity",
        N_("Gateway utilisation by hour"),
        N_("How busy were the channels of each gateway and trunk, hour by hour?"),
        "gateway_utilisation.sql",
        kind="table",
        rows="carrier",
        lookback_days=1,
        defaults=Filters(period="last_7_days"),
        measures=(
            Measure("gateway", N_("Gateway"), "text"),
            Measure("hour", N_("Hour"), "datetime"),
            Measure("channels", N_("Channels"), "int"),
            Measure("legs", N_("Carrier legs"), "int"),
            Measure("connected_s", N_("Connected time"), "duration"),
            Measure("seizure_s", N_("Unanswered seizures"), "duration"),
            Measure("erlangs", N_("Traffic (erlangs)"), "decimal"),
            Measure("utilisation", N_("Utilisation"), "percent"),
            Measure("peak", N_("Peak concurrent calls"), "int"),
        ),
        label_columns=("gateway", "hour"),
        chart=Chart(kind="bar", y=("utilisation",), top=48),
        totals=False,
    ),
    ReportDef(
        "concurrent_calls",
        "capacity",
        N_("Concurrent calls"),
        N_("How many calls were up at once on each gateway, and when?"),
        "concurrent_calls.sql",
        kind="table",
        rows="carrier",
        lookback_days=1,
        defaults=Filters(period="last_7_days"),
        options=("interval",),
        measures=(
            Measure("gateway", N_("Gateway"), "text"),
            Measure("interval_start", N_("Interval"), "datetime"),
            Measure("channels", N_("Channels"), "int"),
            Measure("peak", N_("Peak concurrent calls"), "int"),
            Measure("peak_share", N_("Peak share of channels"), "percent"),
            Measure("peak_at", N_("Peak reached at"), "datetime"),
            Measure("seized", N_("Calls that took a channel"), "int"),
        ),
        label_columns=("gateway", "interval_start"),
        chart=Chart(kind="bar", y=("peak",), top=48),
        totals=False,
    ),
    ReportDef(
        "busiest_hours",
        "capacity",
        N_("Busiest hours"),
        N_("In which hours did each gateway carry the most traffic and the most calls at once?"),
        "busiest_hours.sql",
        kind="table",
        rows="carrier",
        lookback_days=1,
        defaults=Filters(period="last_30_days"),
        measures=(
            Measure("gateway", N_("Gateway"), "text"),
            Measure("hour", N_("Hour"), "datetime"),
            Measure("channels", N_("Channels"), "int"),
            Measure("erlangs", N_("Traffic (erlangs)"), "decimal"),
            Measure("utilisation", N_("Utilisation"), "percent"),
            Measure("peak", N_("Peak concurrent calls"), "int"),
            Measure("traffic_rank", N_("Rank by traffic"), "int"),
            Measure("peak_rank", N_("Rank by peak"), "int"),
        ),
        label_columns=("gateway", "hour"),
        chart=Chart(kind="bar", y=("erlangs",), top=30),
        totals=False,
    ),
    ReportDef(
        "erlang_b_sizing",
        "capacity",
        N_("Trunk sizing (Erlang B)"),
        N_("How many channels does each gateway need for its busy-hour traffic, and how many does it have?"),
        "erlang_b.sql",
        kind="table",
        rows="carrier",
        lookback_days=1,
        defaults=Filters(period="last_30_days"),
        options=("blocking_pct", "busy_days"),
        compute=_erlang_sizing,
        measures=(
            Measure("gateway", N_("Gateway"), "text"),
            Measure("channels", N_("Channels configured"), "int"),
            Measure("days", N_("Days measured"), "int"),
            Measure("busiest_hour", N_("Busiest hour"), "datetime"),
            Measure("busiest_erlangs", N_("Busiest hour traffic (erlangs)"), "decimal"),
            Measure("busy_hour_erlangs", N_("Busy-hour traffic A (erlangs)"), "decimal"),
            Measure("peak", N_("Peak concurrent calls"), "int"),
            Measure("target_blocking", N_("Blocking aimed for"), "percent"),
            Measure("channels_needed", N_("Channels needed"), "int"),
            Measure("blocking", N_("Blocking with the configured channels"), "percent"),
            Measure("spare_channels", N_("Spare channels"), "int"),
        ),
        label_columns=("gateway",),
        chart=Chart(kind="bar", y=("channels_needed",)),
        totals=False,
    ),
]

for _report in _BUILT_IN:
    register(_report)
