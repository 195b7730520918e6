"""People and roles (administrators): the directory's people with role, department, cost centre, site and
source; change a role, a supervisor's departments and cost centres, switch an account off or on, set a local
password, lift a log-in lock. Every change goes through warehouse.accounts and is audited (A2, A3, C4)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.admin import PAGE_SIZE, pager, require_admin, when
from dashboards.components import plain
from dashboards.locks import flash, show_flash
from dashboards.session import engine, settings
from warehouse import accounts, auth
from warehouse.access import ROLES, supervisor_scopes
from warehouse.accounts import AccountError
from warehouse.i18n import N_
from warehouse.lake import Lake

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
state = st.session_state

ROLE_NAMES = {"user": N_("User"), "supervisor": N_("Supervisor"), "administrator": N_("Administrator")}
SOURCE_NAMES = {"local": N_("Local account"), "csv": N_("File import"), "ldap": N_("Directory (LDAP)")}
ACTIVE = {"": N_("All"), "yes": N_("Active"), "no": N_("Switched off")}

st.title(_("People and roles"))
st.caption(
    _(
        "People come from the directory sync, file imports and local accounts. A directory sync may set roles "
        "again from directory groups; what you switch off here stays off."
    )
)
show_flash()

values = accounts.directory_values(eng)
c1, c2, c3 = st.columns([2, 1, 1])
search = c1.text_input(_("Search (name, user name, e-mail, department, cost centre)"), key="ppl_search")
role = c2.selectbox(_("Role"), ["", *ROLES], format_func=lambda r: _(ROLE_NAMES[r]) if r else _("All"), key="ppl_role")
active = c3.selectbox(_("Account"), list(ACTIVE), format_func=lambda a: _(ACTIVE[a]), key="ppl_active")
c4, c5, c6, c7 = st.columns(4)


def choice(col, label: str, name: str, key: str) -> str:
    options = ["", *values[name]]
    if state.get(key) not in options:
        state[key] = ""
    return col.selectbox(label, options, format_func=lambda v: v or _("All"), key=key)


department = choice(c4, _("Department"), "department", "ppl_department")
cost_centre = choice(c5, _("Cost centre"), "cost_centre", "ppl_cost_centre")
site = choice(c6, _("Site"), "site", "ppl_site")
sources = ["", *values["source"]]
source = c7.selectbox(
    _("Source"), sources, format_func=lambda v: _(SOURCE_NAMES.get(v, v)) if v else _("All"), key="ppl_source"
)
filters = {
    "search": search,
    "role": role or None,
    "active": {"": None, "yes": True, "no": False}[active],
    "department": department or None,
    "cost_centre": cost_centre or None,
    "site": site or None,
    "source": source or None,
}
_first, total = accounts.list_users(eng, limit=1, **filters)
if not total:
    st.info(_("Nobody matches these filters."))
    st.stop()
rows, total = accounts.list_users(eng, offset=pager(tr, "ppl_page", total), limit=PAGE_SIZE, **filters)
locks = {r.username: auth.locked_until(eng, r.username) for r in rows}


def scope_text(row: accounts.UserRow) -> str:
    names = {"department": _("Department"), "cost_centre": _("Cost centre")}
    return "; ".join(f"{names.get(kind, kind)} {value}" for kind, value, _source in row.scopes)


st.dataframe(
    pd.DataFrame(
        {
            _("User name"): [r.username for r in rows],
            _("Name"): [r.display_name for r in rows],
            _("Role"): [_(ROLE_NAMES.get(r.role, r.role)) for r in rows],
            _("Department"): [r.department for r in rows],
            _("Cost centre"): [r.cost_centre for r in rows],
            _("Site"): [r.site for r in rows],
            _("Source"): [_(SOURCE_NAMES.get(r.source, r.source)) for r in rows],
            _("Active"): [r.active for r in rows],
            _("Extensions"): [", ".join(r.extensions) for r in rows],
            _("Supervises"): [scope_text(r) for r in rows],
            _("Log-in locked until"): [when(tr, locks[r.username], zone) for r in rows],
        }
    ),
    hide_index=True,
    key="ppl_table",
)

# --- one person ---------------------------------------------------------------------------------------------

by_name = {r.username: r for r in rows}
if state.get("ppl_pick") not in (None, *by_name):
    state["ppl_pick"] = None
pick = st.selectbox(
    _("Person to change"),
    list(by_name),
    index=None,
    format_func=lambda u: f"{u} ({by_name[u].display_name})" if by_name[u].display_name else u,
    placeholder=_("Choose…"),
    key="ppl_pick",
)
if pick is None:
    st.stop()
person = by_name[pick]


def attempt(action, success: str) -> None:
    """Run an account change; its refusal is shown as the reason."""
    try:
        action()
    except AccountError as exc:
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    flash("success", success)


def set_role() -> None:
    new = state[f"ppl_new_role_{pick}"]
    attempt(
        lambda: accounts.set_role(eng, principal.user_id, pick, new),
        _("{user} is now: {role}.").format(user=pick, role=_(ROLE_NAMES[new])),
    )


def set_scopes() -> None:
    attempt(
        lambda: accounts.set_scopes(
            eng,
            principal.user_id,
            pick,
            departments=state.get(f"ppl_scope_departments_{pick}", []),
            cost_centres=state.get(f"ppl_scope_cost_centres_{pick}", []),
        ),
        _("What {user} supervises is saved.").format(user=pick),
    )


def switch(active: bool) -> None:
    attempt(
        lambda: accounts.set_active(eng, principal.user_id, pick, active, lake=Lake(s.lake_dir)),
        (_("{user} can log in again.") if active else _("{user} is switched off and logged out.")).format(user=pick),
    )


def set_password() -> None:
    first, again = state.get("ppl_password", ""), state.get("ppl_password_again", "")
    if first != again:
        flash("error", _("The two passwords differ."))
        return
    attempt(
        lambda: accounts.reset_password(eng, principal.user_id, pick, first),
        _("The password of {user} is set; their sessions have ended.").format(user=pick),
    )


def unlock() -> None:
    attempt(
        lambda: accounts.unlock_login(eng, principal.user_id, pick),
        _("{user} may log in again.").format(user=pick),
    )


with st.container(border=True, key="ppl_person"):
    st.markdown(f"**{plain(person.display_name or pick)}** · {plain(pick)}")
    left, right = st.columns(2)
    with left:
        st.selectbox(
            _("Role"),
            list(ROLES),
            index=list(ROLES).index(person.role),
            format_func=lambda r: _(ROLE_NAMES[r]),
            key=f"ppl_new_role_{pick}",
        )
        st.button(_("Change role"), key="ppl_role_save", on_click=set_role)
    with right:
        if person.active:
            st.button(_("Switch off"), key="ppl_disable", icon=":material/person_off:", on_click=switch, args=(False,))
            st.caption(_("A switched-off person cannot log in anywhere; their calls stay theirs."))
        else:
            st.button(_("Switch on"), key="ppl_enable", icon=":material/person_check:", on_click=switch, args=(True,))
        until = locks[pick]
        if until is not None:
            st.warning(_("Log-in locked after failed attempts until {time}.").format(time=when(tr, until, zone)))
            st.button(_("Clear the log-in lock"), key="ppl_unlock", icon=":material/lock_open:", on_click=unlock)

    if person.role == "supervisor":
        st.markdown(_("**Supervises**"))
        given = supervisor_scopes(eng, pick)
        from_groups = [f"{v}" for kind in given for v, src in given[kind] if src != "admin"]
        if from_groups:
            st.caption(_("From directory groups: {scopes}").format(scopes=", ".join(from_groups)))
        mine = {kind: [v for v, src in given.get(kind, []) if src == "admin"] for kind in ("department", "cost_centre")}
        with st.form("ppl_scope_form"):
            st.multiselect(
                _("Departments"),
                sorted({*values["department"], *mine["department"]}),
                default=mine["department"],
                key=f"ppl_scope_departments_{pick}",
            )
            st.multiselect(
                _("Cost centres"),
                sorted({*values["cost_centre"], *mine["cost_centre"]}),
                default=mine["cost_centre"],
                key=f"ppl_scope_cost_centres_{pick}",
            )
            st.caption(_("With none given, a supervisor sees the people below them in the directory's manager chain."))
            st.form_submit_button(_("Save what they supervise"), key="ppl_scope_save", on_click=set_scopes)

    if person.source == "ldap":
        st.caption(_("{user} logs in with the directory password; change it in the directory.").format(user=pick))
    else:
        with st.form("ppl_password_form", clear_on_submit=True):
            st.markdown(_("**Set a new password**"))
            st.text_input(_("New password"), type="password", key="ppl_password")
            st.text_input(_("The new password again"), type="password", key="ppl_password_again")
            st.caption(
                _("At least {n} characters. The person is logged out everywhere.").format(
                    n=accounts.MIN_PASSWORD_LENGTH
                )
            )
            st.form_submit_button(_("Set password"), key="ppl_password_save", on_click=set_password)
