"""Audit log (administrators): log-ins and failed log-ins, administrative changes, lock changes, views with
full numbers; filtered by who, what, whom and when, newest first (issue 4, item 5)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboards.admin import PAGE_SIZE, pager, require_admin, when
from dashboards.session import engine
from warehouse.audit import ACTIONS, query_audit
from warehouse.i18n import N_

principal, tr = require_admin()
_ = tr.gettext
eng = engine()
zone = principal.time_zone

# Areas first (an area finds every action under it), then each action.
AREAS = {
    "login": N_("Log-ins (all)"),
    "user": N_("People and accounts (all)"),
    "directory": N_("Directory syncs and imports (all)"),
    "phone": N_("Phone locks and PINs (all)"),
    "budget": N_("Budgets (all)"),
    "numbers": N_("Full numbers shown"),
    "settings": N_("Settings (all)"),
    "tariff": N_("Tariffs (all)"),
    "calls": N_("Calls re-processed"),
    "api_token": N_("API tokens (all)"),
}

st.title(_("Audit log"))
st.caption(_("Every entry is kept; none is ever changed or removed. Times are shown in {zone}.").format(zone=zone))
c1, c2, c3 = st.columns(3)
actor = c1.text_input(_("Who (user name)"), key="aud_actor").strip()
choices = ["", *AREAS, *(a for a in ACTIONS if a not in AREAS)]
action = c2.selectbox(
    _("What"),
    choices,
    format_func=lambda a: (_(AREAS[a]) if a in AREAS else a) if a else _("Everything"),
    key="aud_action",
)
target = c3.text_input(_("To whom or what (exactly)"), key="aud_target").strip()
c4, c5, c6 = st.columns(3)
text = c4.text_input(_("Search in the details"), key="aud_text").strip()
since = c5.date_input(_("From"), value=None, key="aud_from")
until = c6.date_input(_("Until"), value=None, key="aud_to")
local = zoneinfo.ZoneInfo(zone)
filters = {
    "actor": actor or None,
    "action": action or None,
    "target": target or None,
    "text": text or None,
    # days are the viewer's own: from the start of `since` to the end of `until`
    "since": datetime.combine(since, time(0), tzinfo=local) if since else None,
    "until": datetime.combine(until + timedelta(days=1), time(0), tzinfo=local) if until else None,
}
total = query_audit(eng, limit=1, **filters).total
if not total:
    st.info(_("No entry matches these filters."))
    st.stop()
page = query_audit(eng, offset=pager(tr, "aud_page", total), limit=PAGE_SIZE, **filters)
st.dataframe(
    pd.DataFrame(
        {
            _("Time"): [when(tr, e.at, zone) for e in page.entries],
            _("Who"): [e.actor for e in page.entries],
            _("What"): [e.action for e in page.entries],
            _("To whom or what"): [e.target for e in page.entries],
            _("Details"): [e.detail for e in page.entries],
        }
    ),
    hide_index=True,
    key="aud_table",
)
