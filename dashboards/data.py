"""The portal's data access: every query a page shows, cached briefly per person and options.

Each function takes the person as `_principal` (not hashed) plus `scope_key`, a text that changes
whenever the person's rights do, so two people never share a cached answer.
"""

from __future__ import annotations

import streamlit as st

from dashboards.session import settings
from warehouse.access import Principal
from warehouse.reports import Filters, ReportResult, run_report
from warehouse.reports.engine import choices as report_choices
from warehouse.reports.home import MonthSummary, last_calls, month_summary
from warehouse.reports.preview import example_result, svg_chart


def scope_key(principal: Principal) -> str:
    """A cache key for everything that decides what the person sees."""
    return repr(
        (
            principal.user_id,
            principal.role,
            principal.assignments,
            principal.departments,
            principal.cost_centres,
            principal.time_zone,
            principal.language,
        )
    )


@st.cache_data(ttl=5, show_spinner=False, max_entries=500)
def home_calls(scope: str, limit: int, _principal: Principal) -> list:
    """Home's last calls of the person's own extensions."""
    return last_calls(settings(), _principal, limit)


@st.cache_data(ttl=30, show_spinner=False, max_entries=500)
def home_summary(scope: str, _principal: Principal) -> MonthSummary:
    """Home's month summary in the person's zone."""
    return month_summary(settings(), _principal, _principal.time_zone)


@st.cache_data(ttl=60, show_spinner=False, max_entries=200)
def report(scope: str, name: str, filters_json: str, language: str, _principal: Principal) -> ReportResult:
    """A report run for the person with these options."""
    return run_report(settings(), _principal, name, Filters.from_json(filters_json), language=language)


@st.cache_data(show_spinner=False, max_entries=500)
def preview_svg(name: str, language: str) -> str:
    """The catalogue preview of a report: the report run on the example calls, drawn small."""
    return svg_chart(example_result(settings(), name, language))


@st.cache_data(ttl=300, show_spinner=False, max_entries=200)
def choices(scope: str, column: str, _principal: Principal) -> list[str]:
    """The values of a column among the calls the person may see (for the Options lists)."""
    return report_choices(settings(), _principal, column)
