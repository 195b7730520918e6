"""Dashboard (D1-D2): a person's own widgets; add (choosing the zone), minimise, move, close; kept per person."""

from __future__ import annotations

import dataclasses

import streamlit as st

from dashboards import charts, data
from dashboards.components import calls_table, request_report
from dashboards.session import engine, require_principal
from dashboards.widgets import SUGGESTED, WIDGETS, WidgetDef
from warehouse import preferences as prefs
from warehouse.reports import Chart

principal, tr = require_principal()
_ = tr.gettext
eng = engine()
scope = data.scope_key(principal)
ZONE_LABELS = {"top": _("Top, full width"), "left": _("Left column"), "right": _("Right column")}

st.title(_("Dashboard"))

with st.container(border=True):
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    new_widget = c1.selectbox(
        _("Widget"), list(WIDGETS), format_func=lambda k: _(WIDGETS[k].title), key="dash_new_widget"
    )
    new_zone = c2.selectbox(_("Zone"), list(prefs.ZONES), format_func=lambda z: ZONE_LABELS[z], key="dash_new_zone")
    if c3.button(_("Add"), key="dash_add", type="primary", icon=":material/add:"):
        prefs.add_widget(eng, principal.user_id, new_widget, new_zone)
        st.rerun()

layout = prefs.dashboard(eng, principal.user_id)
if not layout:
    st.info(_("Your dashboard is empty. Add widgets above, or start with a suggested set."))
    if st.button(_("Add the suggested widgets"), key="dash_suggested"):
        for key, zone in SUGGESTED:
            prefs.add_widget(eng, principal.user_id, key, zone)
        st.rerun()


def widget_body(defn: WidgetDef, widget_id: int) -> None:
    if defn.chart == "table":
        calls = data.home_calls(scope, defn.top, principal)
        if calls:
            calls_table(calls, tr, principal.time_zone, key=f"dash_calls_{widget_id}", height=300)
        else:
            st.write(_("No calls yet."))
        return
    result = data.report(scope, defn.report, defn.filters.to_json(), tr.language, principal)
    if defn.sort_by:
        i = result.index(defn.sort_by)
        rows = sorted(result.rows, key=lambda r: r[i] or 0, reverse=True)[: defn.top]
        result = dataclasses.replace(result, rows=rows, chart=Chart(kind="bar", y=(defn.sort_by,)))
    if not result.rows:
        st.write(_("No calls in this period."))
        return
    fig = charts.figure(result, kind=defn.chart, top=defn.top, height=260)
    if fig is not None:
        st.plotly_chart(fig, key=f"dash_chart_{widget_id}", config={"displayModeBar": False})
    else:
        st.dataframe(charts.table(result), hide_index=True, key=f"dash_table_{widget_id}")
    measure = result.chart_measures()
    if len(measure) == 1:
        label = next(c.label for c in result.columns if c.key == measure[0])
        st.caption(_("Showing: {measure}").format(measure=label))


def widget_frame(widget: prefs.Widget) -> None:
    defn = WIDGETS.get(widget.widget)
    if defn is None:
        return
    with st.container(border=True):
        head, b_min, b_move, b_close = st.columns([6, 1, 1, 1], vertical_alignment="center")
        head.markdown(f"**{_(defn.title)}**")
        if b_min.button(
            "",
            key=f"dash_min_{widget.id}",
            icon=":material/expand_more:" if widget.minimised else ":material/minimize:",
            help=_("Open") if widget.minimised else _("Minimise"),
        ):
            prefs.set_minimised(eng, principal.user_id, widget.id, not widget.minimised)
            st.rerun()
        with b_move.popover("", icon=":material/open_with:", help=_("Move")):
            target = st.radio(
                _("Zone"),
                list(prefs.ZONES),
                index=list(prefs.ZONES).index(widget.zone),
                format_func=lambda z: ZONE_LABELS[z],
                key=f"dash_zone_{widget.id}",
            )
            if st.button(_("Move"), key=f"dash_move_{widget.id}") and target != widget.zone:
                prefs.move_widget(eng, principal.user_id, widget.id, target)
                st.rerun()
        if b_close.button("", key=f"dash_close_{widget.id}", icon=":material/close:", help=_("Remove")):
            prefs.remove_widget(eng, principal.user_id, widget.id)
            st.rerun()
        if widget.minimised:
            return
        widget_body(defn, widget.id)
        if defn.report and st.button(_("Open as report"), key=f"dash_open_{widget.id}", type="tertiary"):
            request_report(defn.report, defn.filters)


for widget in [w for w in layout if w.zone == "top"]:
    widget_frame(widget)
left, right = st.columns(2)
with left:
    for widget in [w for w in layout if w.zone == "left"]:
        widget_frame(widget)
with right:
    for widget in [w for w in layout if w.zone == "right"]:
        widget_frame(widget)
