"""Home (H1-H6): my last calls, this month's summary, report shortcuts and report history."""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards.components import calls_table, plain, request_report
from dashboards.session import engine, require_principal, settings
from warehouse.preferences import HOME_ROWS, get_preferences, set_preferences
from warehouse.reports import Filters, get
from warehouse.reports.store import get_saved, history, most_used, personal_reports

principal, tr = require_principal()
_ = tr.gettext
zone = principal.time_zone
scope = data.scope_key(principal)
eng = engine()

st.title(_("Home"))
st.caption(_("Hello {name}. Times are shown in {zone}.").format(name=plain(principal.display_name), zone=zone))

if not principal.extensions:
    st.info(_("No extension is assigned to you, so there are no calls of your own to show here."))

# --- H5: this month ---------------------------------------------------------------------------
summary = data.home_summary(scope, principal)
st.subheader(_("This month: {month}").format(month=tr.date(summary.month_start, "LLLL yyyy")))
cols = st.columns(5)
cols[0].metric(_("Cost"), tr.money(summary.cost, summary.currency) if summary.cost is not None else "–")
cols[1].metric(_("Calls"), tr.number(summary.calls))
cols[2].metric(_("Average duration"), tr.duration(summary.avg_duration_s) if summary.avg_duration_s else "–")
cols[3].metric(_("Average ring time"), tr.duration(summary.avg_ring_s) if summary.avg_ring_s else "–")
cols[4].metric(_("Missed calls today"), tr.number(summary.missed_today))

# --- H1-H4: last calls, refreshed on their own -------------------------------------------------
refresh = settings().portal.refresh_seconds or None


@st.fragment(run_every=refresh)
def last_calls_section() -> None:
    st.subheader(_("Last calls"))
    stored = get_preferences(eng, principal.user_id).home_rows
    left, middle, _right = st.columns([1, 1, 4], vertical_alignment="bottom")

    def rows_changed() -> None:
        set_preferences(eng, principal.user_id, home_rows=st.session_state["home_rows"])

    rows = left.selectbox(
        _("Show"),
        HOME_ROWS,
        index=HOME_ROWS.index(stored) if stored in HOME_ROWS else 1,
        format_func=lambda n: _("Top {n}").format(n=n),
        key="home_rows",
        on_change=rows_changed,
    )
    if middle.button(_("Refresh"), key="home_refresh", icon=":material/refresh:"):
        data.home_calls.clear()
    calls = data.home_calls(scope, rows, principal)
    if calls:
        calls_table(calls, tr, zone, key="home_calls")
    else:
        st.write(_("No calls yet."))


last_calls_section()

# --- H6: shortcuts and history --------------------------------------------------------------------
st.divider()
public_used, personal_used = most_used(eng, principal.user_id)
suggested = ["call_list", "cost_by_extension", "personal_traffic", "phone_bill", "unanswered_calls"]
public = list(dict.fromkeys(public_used + suggested))[:5]
mine = {r.id: r for r in personal_reports(eng, principal.user_id)}
personal = [mine[i] for i in personal_used if i in mine] + [r for i, r in mine.items() if i not in personal_used]

left, right = st.columns(2)
with left:
    st.subheader(_("Reports"))
    for name in public:
        report = get(name)
        if st.button(_(report.title), key=f"home_public_{name}", help=_(report.question), icon=":material/bar_chart:"):
            request_report(name, report.defaults)
with right:
    st.subheader(_("My personal reports"))
    if not personal:
        st.write(_("You have not saved any personal reports yet."))
    for saved in personal[:5]:
        if st.button(
            plain(saved.name),
            key=f"home_personal_{saved.id}",
            help=plain(saved.description) if saved.description else None,
            icon=":material/bookmark:",
        ):
            request_report(saved.report, saved.filters, saved.id)

st.subheader(_("Report history"))
runs = history(eng, principal.user_id, limit=10)
if not runs:
    st.write(_("No reports run yet."))
for run in runs:
    title = plain(run.saved_name) if run.saved_name else _(get(run.report).title)
    when = tr.datetime(run.ran_at, zone, "short")
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.write(f"**{title}** · {when} · " + tr.ngettext("{n} row", "{n} rows", run.rows).format(n=tr.number(run.rows)))
    if c2.button(_("Run again"), key=f"home_history_{run.id}"):
        saved = get_saved(eng, principal.user_id, run.saved_report_id) if run.saved_report_id else None
        request_report(run.report, saved.filters if saved else run.filters or Filters(), run.saved_report_id)
