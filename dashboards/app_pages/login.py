"""Log in with the directory user name and password (A2), in the language of one's choice."""

from __future__ import annotations

import streamlit as st

from dashboards.session import apply_direction, language_of, language_picker, log_in
from warehouse.i18n import translator

tr = translator(language_of(None))
_ = tr.gettext
apply_direction(tr)

left, middle, right = st.columns([1, 2, 1])
with middle:
    st.title(_("Ringledger call analytics"))
    st.write(_("Log in with your company user name and password."))
    with st.form("login_form"):
        username = st.text_input(_("User name"), key="login_username", autocomplete="username")
        password = st.text_input(_("Password"), type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button(_("Log in"), type="primary", key="login_submit")
    if submitted:
        error = log_in(username, password)
        if error:
            # the same words whether the name or the password was wrong
            st.error(_("Unknown user name or wrong password."))
        else:
            st.rerun()
    language_picker(tr, None, where=st)
