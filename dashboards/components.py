"""Pieces several pages share: the last-calls table, report shortcuts and report requests."""

from __future__ import annotations

import base64
import re

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from warehouse.i18n import Translator
from warehouse.reports import Filters
from warehouse.reports.home import CALL_TYPES, INTERNAL_GATEWAY, HomeCall

REPORTS_PAGE = "app_pages/reports.py"
REQUEST_KEY = "report_request"


# Characters Streamlit's Markdown gives a meaning to (emphasis, links, images, HTML, LaTeX, colour
# directives, lists and headings); a backslash makes each one itself.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def plain(value: object) -> str:
    """Text that came from people or the directory (names, report names, descriptions), made literal
    for anything Streamlit renders as Markdown: labels, captions, messages. A name such as
    `![x](http://elsewhere/pixel)` then reads as written instead of fetching an image."""
    return _MARKDOWN.sub(r"\\\1", str(value))


def _icon(color: str, arrow: str, cross: bool = False) -> str:
    """A 20 px round call-type icon as a data URL (arrow path in a 20x20 box)."""
    extra = '<path d="M13 13 L17 17 M17 13 L13 17" stroke="#b91c1c" stroke-width="2"/>' if cross else ""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20">'
        f'<circle cx="10" cy="10" r="9" fill="{color}" fill-opacity="0.15" stroke="{color}"/>'
        f'<path d="{arrow}" fill="none" stroke="{color}" stroke-width="2" stroke-linecap="round" '
        f'stroke-linejoin="round"/>{extra}</svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# Arrows: out of the box (north-east) for outgoing, into it (south-west) for incoming, both ways for internal.
ICONS = {
    "outgoing": _icon("#0f766e", "M6 14 L14 6 M8 6 H14 V12"),
    "incoming": _icon("#2563eb", "M14 6 L6 14 M6 8 V14 H12"),
    "missed_incoming": _icon("#dc2626", "M14 6 L6 14 M6 8 V14 H12", cross=True),
    "missed_outgoing": _icon("#d97706", "M6 14 L14 6 M8 6 H14 V12", cross=True),
    "internal": _icon("#6b7280", "M5 8 H15 M12 5 L15 8 L12 11 M15 12 H5 M8 9 L5 12 L8 15"),
}


def request_report(name: str, filters: Filters, saved_id: int | None = None) -> None:
    """Open the Interactive Reports page running this report with these options."""
    st.session_state[REQUEST_KEY] = {"report": name, "filters": filters.to_json(), "saved_id": saved_id}
    st.switch_page(REPORTS_PAGE)


def calls_frame(calls: list[HomeCall], tr: Translator, zone: str) -> pl.DataFrame:
    """Home's last calls as the table a person reads (H2), in their language and zone."""
    _ = tr.gettext

    def cells(values: list[str]) -> list[str]:
        return [cell_text(v, tr) for v in values]

    return pl.DataFrame(
        {
            "icon": [ICONS[c.call_type] for c in calls],
            _("Type"): [_(CALL_TYPES[c.call_type]) for c in calls],
            _("Extension"): cells([c.extension for c in calls]),
            _("Name"): [c.user_name for c in calls],
            _("Number"): cells([c.number for c in calls]),
            _("Date"): cells([tr.date(c.started_at.astimezone(_zone(zone))) for c in calls]),
            _("Time"): cells([tr.time(c.started_at, zone, "medium") for c in calls]),
            _("Duration"): cells([tr.duration(c.duration_s) for c in calls]),
            _("Cost"): cells([tr.money(c.cost, c.currency) if c.cost is not None else "" for c in calls]),
            _("Gateway"): [_(INTERNAL_GATEWAY) if c.internal else c.gateway for c in calls],
        },
        schema_overrides={"icon": pl.String},
    )


def _zone(zone: str):
    import zoneinfo

    return zoneinfo.ZoneInfo(zone)


def calls_table(calls: list[HomeCall], tr: Translator, zone: str, key: str, height: int | str = "auto") -> None:
    """The last-calls table; clicking a number opens the report of all calls with that number (H4)."""
    _ = tr.gettext
    generation = st.session_state.get(f"{key}_gen", 0)
    widget_key = f"{key}_{generation}"
    shown: list[str] = st.session_state.get(f"{key}_numbers", [])
    frame = calls_frame(calls, tr, zone)
    event = st.dataframe(
        frame,
        key=widget_key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-cell",
        height=height,
        column_config={"icon": st.column_config.ImageColumn("", width="small")},
    )
    st.session_state[f"{key}_numbers"] = [c.real_number for c in calls]
    cells = event.selection.get("cells", []) if event is not None else []
    if cells:
        row, column = cells[0][0], cells[0][1]
        if column == _("Number") and 0 <= row < len(shown) and shown[row]:
            st.session_state[f"{key}_gen"] = generation + 1
            request_report("call_list", Filters(period="all", numbers=[shown[row]]))
    st.caption(_("Click a number to see all your calls with it."))
