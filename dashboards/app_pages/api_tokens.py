"""My API tokens (X11): make a personal token for the JSON API, see when each was used, revoke it.

A new token is shown once, right after it is made; only its hash is kept. Administrators also see
everyone's tokens and may revoke any of them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.session import engine, require_principal, settings
from warehouse import api_tokens

principal, tr = require_principal()
_ = tr.gettext
eng = engine()
s = settings()
zone = principal.time_zone


def when(value) -> str:
    return tr.datetime(value, zone) if value is not None else ""


def state_of(t: api_tokens.TokenInfo) -> str:
    if t.revoked_at is not None:
        return _("Revoked")
    return _("Active") if t.active() else _("Expired")


def table(tokens: list[api_tokens.TokenInfo], with_owner: bool) -> pd.DataFrame:
    rows = []
    for t in tokens:
        row = {
            _("Name"): t.name,
            _("Token"): t.shown,
            _("Created"): when(t.created_at),
            _("Last used"): when(t.last_used_at) or _("Never"),
            _("Expires"): when(t.expires_at) or _("Never"),
            _("State"): state_of(t),
        }
        if with_owner:
            row = {_("User"): t.user_id, **row}
        rows.append(row)
    return pd.DataFrame(rows)


def revoke_form(tokens: list[api_tokens.TokenInfo], key: str, with_owner: bool) -> None:
    live = [t for t in tokens if t.active()]
    if not live:
        return
    labels = {t.id: (f"{t.user_id}: " if with_owner else "") + f"{t.name} ({t.shown})" for t in live}
    with st.form(f"{key}_form"):
        chosen = st.selectbox(_("Token to revoke"), list(labels), format_func=labels.get, key=f"{key}_choice")
        if st.form_submit_button(_("Revoke"), key=f"{key}_submit"):
            api_tokens.revoke_token(eng, principal, int(chosen))
            st.rerun()


st.title(_("API tokens"))
st.write(
    _(
        "A personal token lets a script or another program read your calls, reports, budgets and phone "
        "lock through the JSON API, with your rights. Send it as: Authorization: Bearer <token>."
    )
)
base = s.phone_service.public_url.rstrip("/") or f"http://{s.phone_service.address}:{s.phone_service.port}"
st.caption(_("API description: {url}").format(url=f"{base}/api/v1/openapi.json"))

lifetimes = [s.api.token_days, 30, 90, 365, 0]
lifetimes = list(dict.fromkeys(lifetimes))
with st.form("token_create_form", clear_on_submit=True):
    name = st.text_input(_("What is it for?"), max_chars=api_tokens.NAME_MAX, key="token_name")
    days = st.selectbox(
        _("Valid for"),
        lifetimes,
        format_func=lambda d: _("Until revoked") if d == 0 else tr.ngettext("{n} day", "{n} days", d).format(n=d),
        key="token_days",
    )
    create = st.form_submit_button(_("Create token"), type="primary", key="token_create")
if create:
    try:
        info, secret = api_tokens.create_token(s, eng, principal, name, int(days))
    except ValueError:
        st.error(_("Give the token a name of at most {n} characters.").format(n=api_tokens.NAME_MAX))
    else:
        st.success(_("Token “{name}” created. Copy it now: it is not shown again.").format(name=info.name))
        st.code(secret, language=None)

mine = api_tokens.list_tokens(eng, principal.user_id)
st.subheader(_("My tokens"))
if mine:
    st.dataframe(table(mine, False), hide_index=True, key="token_table")
    revoke_form(mine, "token_revoke", False)
else:
    st.info(_("You have no API tokens."))

if principal.is_admin:
    st.subheader(_("Everyone's tokens"))
    everyone = api_tokens.list_tokens(eng)
    if everyone:
        st.dataframe(table(everyone, True), hide_index=True, key="token_table_all")
        revoke_form(everyone, "token_revoke_all", True)
    else:
        st.info(_("Nobody has an API token."))
