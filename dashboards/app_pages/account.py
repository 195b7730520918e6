"""My language and time zone (A4, X9): kept for the person and used by every page, export and mail."""

from __future__ import annotations

import zoneinfo

import streamlit as st

from dashboards import data
from dashboards.session import engine, require_principal, settings
from warehouse.i18n import LANGUAGES
from warehouse.preferences import directory_zone, get_preferences, set_preferences

principal, tr = require_principal()
_ = tr.gettext
eng = engine()
stored = get_preferences(eng, principal.user_id)

st.title(_("Language and time zone"))
st.write(_("Pages, reports and exports use your language; times are shown in your time zone."))
codes = list(LANGUAGES)
s = settings()
known = list(dict.fromkeys([s.company.time_zone, *[site.time_zone for site in s.sites], "UTC"]))
zones = [""] + known + sorted(z for z in zoneinfo.available_timezones() if z not in known)
with st.form("account_form"):
    language = st.selectbox(
        _("Language"),
        codes,
        index=codes.index(principal.language),
        format_func=lambda c: LANGUAGES[c],
        key="account_language",
    )
    zone = st.selectbox(
        _("Time zone"),
        zones,
        index=zones.index(stored.time_zone) if stored.time_zone in zones else 0,
        format_func=lambda z: z or _("As my site ({zone})").format(zone=directory_zone(s, eng, principal.user_id)),
        key="account_zone",
    )
    if st.form_submit_button(_("Save"), type="primary", key="account_save"):
        set_preferences(eng, principal.user_id, language=language, time_zone=zone)
        st.session_state.pop("ui_language", None)
        data.home_calls.clear()
        data.home_summary.clear()
        st.rerun()
st.caption(_("Your calls are shown in {zone}.").format(zone=principal.time_zone))
