"""The dashboard widget catalogue (D2): each widget is a catalogue report with fixed options and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse.i18n import N_
from warehouse.reports import Filters


@dataclass(frozen=True)
class WidgetDef:
    """A dashboard widget: the report it runs, with which options, drawn how."""

    key: str
    title: str
    report: str = ""  # '' for the last-calls table
    filters: Filters = field(default_factory=Filters)
    chart: str = "bar"  # bar | pie | stacked | line | table
    top: int = 10
    sort_by: str | None = None  # re-rank the rows by this measure (descending) before taking the top


WIDGETS: dict[str, WidgetDef] = {
    w.key: w
    for w in (
        WidgetDef(
            "week_costs_area",
            N_("This Week Top Costs by Area"),
            "cost_by_area",
            Filters(period="this_week", traffic="external"),
        ),
        WidgetDef(
            "today_costs_destination",
            N_("Today Top % Costs by Destination"),
            "cost_by_destination_type",
            Filters(period="today", traffic="external"),
            chart="pie",
        ),
        WidgetDef(
            "week_costs_extension",
            N_("This Week Top Costs by Extension"),
            "cost_by_extension",
            Filters(period="this_week"),
        ),
        WidgetDef(
            "week_costs_date", N_("This Week Top Costs by Date"), "cost_by_date", Filters(period="this_week"), top=7
        ),
        WidgetDef("today_costs_hours", N_("Today Costs by Hours"), "cost_by_hour", Filters(period="today"), top=24),
        WidgetDef(
            "today_costs_department",
            N_("Today Top % Costs by Department"),
            "cost_by_department",
            Filters(period="today"),
            chart="pie",
        ),
        WidgetDef(
            "today_costs_area",
            N_("Today Top % Costs by Area"),
            "cost_by_area",
            Filters(period="today", traffic="external"),
            chart="pie",
        ),
        WidgetDef(
            "top5_international",
            N_("Top 5 International traffic by total duration"),
            "cost_by_nation",
            Filters(period="this_month", destination_types=["international"]),
            top=5,
            sort_by="duration_s",
        ),
        WidgetDef(
            "personal_traffic_30_days",
            N_("Last 30 Days Personal Traffic Analysis"),
            "personal_traffic",
            Filters(period="last_30_days", granularity="day"),
            chart="stacked",
            top=30,
        ),
        WidgetDef(
            "today_status_department",
            N_("Today Call Status by Department"),
            "call_status_by_department",
            Filters(period="today"),
            chart="stacked",
        ),
        WidgetDef(
            "today_status_area",
            N_("Today Call Status by Area"),
            "call_status_by_area",
            Filters(period="today", traffic="external"),
            chart="stacked",
        ),
        WidgetDef(
            "status_last_7_days",
            N_("Call Status of last 7 days"),
            "call_status_by_day",
            Filters(period="last_7_days"),
            chart="stacked",
            top=7,
        ),
        WidgetDef(
            "poor_quality_by_gateway",
            N_("Poor-quality calls by gateway"),
            "quality_by_gateway",
            Filters(period="last_7_days", traffic="external"),
            top=10,
            sort_by="poor",
        ),
        WidgetDef("last_calls", N_("Last Calls"), chart="table", top=10),
    )
}

# Offered to someone whose dashboard is empty.
SUGGESTED = (
    ("week_costs_extension", "left"),
    ("status_last_7_days", "right"),
    ("personal_traffic_30_days", "top"),
    ("last_calls", "top"),
)
