"""The Ringledger portal: only a router. Who is logged in decides the menu (see dashboards/registry.py)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import registry
from dashboards.components import plain
from dashboards.session import current_principal, language_of, language_picker, log_out
from warehouse.i18n import translator

HERE = Path(__file__).parent
LOGO = Path(__file__).resolve().parents[1] / "warehouse" / "reports" / "assets" / "logo.svg"

st.set_page_config(page_title="Ringledger", page_icon=":material/call:", layout="wide")
principal = current_principal()
tr = translator(language_of(principal))
_ = tr.gettext
if LOGO.exists():
    st.logo(str(LOGO), size="large")


def page(entry: registry.PageEntry, default: bool = False) -> st.Page:
    return st.Page(str(HERE / entry.script), title=_(entry.title), icon=entry.icon, default=default)


if principal is None:
    navigation = st.navigation([page(registry.LOGIN_PAGE, default=True)], position="hidden")
else:
    sections = {
        _(registry.MODULES[module]): [page(p, default=p.default) for p in entries]
        for module, entries in registry.menu(principal).items()
    }
    # every page in view: an administrator has more pages than a collapsed menu shows
    navigation = st.navigation(sections, expanded=True)
    with st.sidebar:
        st.caption(_("Logged in as {name}").format(name=plain(principal.display_name or principal.user_id)))
        language_picker(tr, principal)
        if st.button(_("Log out"), key="logout", icon=":material/logout:"):
            log_out()
            st.rerun()
navigation.run()
