"""Who is logged in to this browser session, in which language, and the page chrome that follows.

The session token from `warehouse.auth` lives only in Streamlit's server-side session state (never
in the URL or a cookie); every script run checks it again, so logging out or expiry takes effect at
once. Pages call `require_principal()` first: it stops the page for anyone not logged in.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from warehouse import appdb, auth
from warehouse.access import Principal
from warehouse.config import Settings, load_settings
from warehouse.i18n import LANGUAGES, Translator, normalise_language, translator
from warehouse.preferences import person_language, person_zone, set_preferences

TOKEN_KEY = "rl_token"
LANGUAGE_KEY = "rl_language"  # language chosen before logging in


def settings() -> Settings:
    """The configuration of this data home with the settings changed at run time (cheap: cached by revision)."""
    return load_settings()


def engine():
    """The migrated app database."""
    return appdb.open_db(settings())


def current_principal() -> Principal | None:
    """The logged-in person with their language and time zone applied, or None."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    s = settings()
    eng = engine()
    principal = auth.session_principal(s, eng, token, "portal")
    if principal is None:
        st.session_state.pop(TOKEN_KEY, None)
        return None
    return dataclasses.replace(
        principal,
        language=person_language(s, eng, principal.user_id),
        time_zone=person_zone(s, eng, principal.user_id),
    )


def log_in(username: str, password: str) -> str:
    """Check the credentials and open a session; returns an error message, or '' on success."""
    s = settings()
    eng = engine()
    result = auth.login(s, eng, username, password, channel="portal")
    if not result.ok or result.principal is None:
        return result.error
    st.session_state[TOKEN_KEY] = auth.start_session(s, eng, result.principal, "portal")
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen and chosen != person_language(s, eng, result.principal.user_id):
        # a language picked on the log-in page is the person's choice from now on
        set_preferences(eng, result.principal.user_id, language=chosen)
    return ""


def log_out() -> None:
    """End the session and forget everything about it in this browser session."""
    auth.end_session(engine(), st.session_state.get(TOKEN_KEY))
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.cache_data.clear()


def language_of(principal: Principal | None) -> str:
    """The language to draw the page in."""
    if principal is not None:
        return principal.language
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen:
        return normalise_language(chosen)
    s = settings()
    return normalise_language(s.portal.default_language or s.company.language)


def apply_direction(tr: Translator) -> None:
    """Lay the page out right to left for Arabic (text, sidebar, tables and inputs)."""
    if not tr.rtl:
        return
    st.html(
        """<style>
        .stApp, [data-testid="stSidebar"], [data-testid="stMain"], [data-testid="stHeader"] {
            direction: rtl; text-align: right;
        }
        [data-testid="stMarkdownContainer"], [data-testid="stMetric"], label, input, textarea { direction: rtl; }
        [data-testid="stSidebar"] { left: auto; right: 0; }
        .js-plotly-plot, [data-testid="stDataFrame"] { direction: ltr; }
        </style>"""
    )


def require_principal() -> tuple[Principal, Translator]:
    """The logged-in person and their translator; anyone else sees a log-in prompt and the page stops."""
    principal = current_principal()
    tr = translator(language_of(principal))
    apply_direction(tr)
    if principal is None:
        st.warning(tr.gettext("Please log in to see this page."))
        st.stop()
    assert principal is not None
    return principal, tr


def language_picker(tr: Translator, principal: Principal | None, where=st.sidebar) -> None:
    """A language menu; the choice is kept for the person (or for the log-in page before logging in)."""
    codes = list(LANGUAGES)
    current = language_of(principal)

    def changed() -> None:
        chosen = st.session_state["ui_language"]
        st.session_state[LANGUAGE_KEY] = chosen
        if principal is not None:
            set_preferences(engine(), principal.user_id, language=chosen)

    where.selectbox(
        tr.gettext("Language"),
        codes,
        index=codes.index(current),
        format_func=lambda c: LANGUAGES[c],
        key="ui_language",
        on_change=changed,
    )
