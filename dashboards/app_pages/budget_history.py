"""Budget history (B3): every lock, unlock, notification, end of period and carry-over, newest first."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from dashboards.locks import EVENT_NAMES, event_text
from dashboards.session import engine, require_principal, settings
from warehouse import budgets
from warehouse.phonelock import SYSTEM

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
ROWS = (200, 1000, 5000)

st.title(_("Budget history"))
if principal.role in ("administrator", "supervisor"):
    st.caption(_("The actions on your own budgets and on the budgets of the people you look after."))
else:
    st.caption(_("The actions on your own budget and on your group's budgets."))


def label(name: str, scope: str, subject: str) -> str:
    """A budget's name, with the person's user name where the name alone would be ambiguous."""
    return f"{name} – {subject}" if scope == "user" and subject != principal.user_id else name


names: dict[int, str] = {
    b.budget.id: label(b.name, b.budget.scope, b.budget.subject) for b in budgets.my_budgets(s, eng, principal)
}
if principal.role in ("administrator", "supervisor"):
    for b in budgets.budget_overview(s, eng, principal):
        names.setdefault(b.budget.id, label(b.name, b.budget.scope, b.budget.subject))
for event in budgets.budget_history(s, eng, principal, limit=ROWS[-1]):
    names.setdefault(event.budget_id, event.budget_name)

left, middle, right = st.columns([3, 3, 1])
chosen = left.selectbox(
    _("Budget"),
    [None, *sorted(names, key=lambda i: names[i].lower())],
    format_func=lambda i: _("All budgets") if i is None else names[i],
    key="history_budget",
)
kinds = middle.multiselect(
    _("Actions"),
    list(EVENT_NAMES),
    format_func=lambda k: _(EVENT_NAMES[k]),
    placeholder=_("All actions"),
    key="history_kinds",
)
limit = right.selectbox(_("Show"), ROWS, format_func=lambda n: _("Top {n}").format(n=n), key="history_rows")

events = budgets.budget_history(s, eng, principal, budget_id=chosen, limit=limit)
if kinds:
    events = [e for e in events if e.kind in kinds]
if not events:
    st.info(_("Nothing has happened on these budgets yet."))
    st.stop()


def actor(name: str) -> str:
    return _("Ringledger (automatic)") if name == SYSTEM.user_id else name


table = pl.DataFrame(
    {
        _("Date and time"): [cell_text(tr.datetime(e.at, zone, "short"), tr) for e in events],
        _("Budget"): [names.get(e.budget_id, e.budget_name) for e in events],
        _("Action"): [_(EVENT_NAMES.get(e.kind, e.kind)) for e in events],
        _("Person"): [e.user_id or "" for e in events],
        _("Extension"): [cell_text(e.extension or "", tr) for e in events],
        _("What happened"): [event_text(tr, e) for e in events],
        _("By"): [actor(e.actor) for e in events],
    },
    schema=dict.fromkeys(
        [
            _("Date and time"),
            _("Budget"),
            _("Action"),
            _("Person"),
            _("Extension"),
            _("What happened"),
            _("By"),
        ],
        pl.String,
    ),
)
st.dataframe(table, hide_index=True, width="stretch", key="history_table")
st.caption(tr.ngettext("{n} action", "{n} actions", len(events)).format(n=tr.number(len(events))))
