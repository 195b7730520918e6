"""My budgets (B2): each budget that applies to me, what is spent and left, until when, and my phone's state."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import streamlit as st

from dashboards.locks import STATUS_ICONS, budget_lock_text, status_text
from dashboards.session import engine, require_principal, settings
from warehouse import budgets
from warehouse.i18n import N_

PERIOD_SPANS = {"weekly": N_("Weekly budget, {first} – {last}"), "monthly": N_("Monthly budget, {first} – {last}")}

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone

st.title(_("My budgets"))
mine = budgets.my_budgets(s, eng, principal)
if not mine:
    st.info(_("No budget applies to you: your calls are not limited."))
    st.stop()
st.caption(_("Amounts are the cost of your outside calls in this period. Times are shown in {zone}.").format(zone=zone))
by_id = {b.budget.id: b for b in mine}

for status in mine:
    b = status.budget
    money = lambda value, currency=b.currency: tr.money(value, currency)  # noqa: E731
    with st.container(border=True, key=f"budget_{b.id}"):
        st.subheader(status.name)
        st.caption(_(PERIOD_SPANS[b.period]).format(first=tr.date(status.first_day), last=tr.date(status.until)))
        cols = st.columns(4)
        cols[0].metric(_("Budget"), money(status.allowance))
        cols[1].metric(_("Spent"), money(status.spent))
        cols[2].metric(_("Remaining"), money(status.remaining))
        # the last day of the period as the reader's calendar has it
        last_instant = status.period_end - timedelta(microseconds=1)
        cols[3].metric(_("Until"), tr.date(last_instant.astimezone(zoneinfo.ZoneInfo(zone))))
        st.progress(
            min(status.percent, 100),  # whole percent: 0 to 100
            text=_("{pct}% used").format(pct=tr.number(status.percent)),
        )
        if status.carried_in > 0:
            st.write(
                _("Includes {carried} carried over from the previous period (budget {base}).").format(
                    carried=money(status.carried_in), base=money(status.base_amount)
                )
            )
        elif b.carry_over:
            st.caption(_("What this period leaves unspent is added to the next one."))
        st.caption(
            _("The next period starts {when}.").format(when=tr.datetime(status.period_end, zone, "short"))
            + " "
            + (
                _("Last brought up to date {when}.").format(when=tr.datetime(status.evaluated_at, zone, "short"))
                if status.evaluated_at
                else _("Not counted yet: the spend appears after the next evaluation.")
            )
        )
        if status.exhausted and b.lock_on_exhaust:
            st.error(_("This budget is spent: outgoing calls outside the company are blocked until the next period."))
        for ext, state in status.phones.items():
            line = status_text(tr, state.status)
            if state.status == "budget":
                line = f"{STATUS_ICONS['budget']} {budget_lock_text(tr, state, by_id, zone)}"
            st.markdown(_("Phone {extension}").format(extension=ext) + f" — {line}")
