"""Users (P2, administrators and supervisors): lock states of the people in my scope, ADMIN LOCK, PIN reset."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.locks import THEIR_STATUS, USERS_COLUMN_WIDTHS, ask, confirmation, flash, pending, show_flash
from dashboards.session import engine, require_principal, settings
from warehouse import phonelock
from warehouse.appdb import utcnow

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
if principal.role not in ("administrator", "supervisor"):
    st.error(_("Only administrators and supervisors may open this page."))
    st.stop()

GEN_KEY = "users_editor_gen"
STATUSES = ("", "unlocked", "locked", "user", "budget", "admin")


def editor_key() -> str:
    """The table's key: a new one after every change, so the table shows the stored state again."""
    return f"users_editor_{st.session_state.get(GEN_KEY, 0)}"


def fresh_table() -> None:
    st.session_state[GEN_KEY] = st.session_state.get(GEN_KEY, 0) + 1


st.title(_("Users"))
if principal.is_admin:
    st.caption(_("Everyone's phones. An ADMIN LOCK can only be removed here; the user cannot undo it."))
else:
    st.caption(_("The phones of the people you look after. The user cannot undo an ADMIN LOCK."))
show_flash()
shown = st.session_state.pop("users_new_pin", None)
if shown:
    st.success(
        _("The new PIN of {user} is {pin}. It is shown only this once: hand it over now.").format(
            user=shown[0], pin=shown[1]
        ),
        icon=":material/key:",
    )

c1, c2, c3, c4 = st.columns(4)
username = c1.text_input(_("User name"), key="users_username", on_change=fresh_table)
name = c2.text_input(_("First or last name"), key="users_name", on_change=fresh_table)
extension = c3.text_input(_("Extension"), key="users_extension", on_change=fresh_table)
status = c4.selectbox(
    _("Status"),
    STATUSES,
    format_func=lambda v: _("Locked (any reason)") if v == "locked" else (_(THEIR_STATUS[v]) if v else _("All")),
    key="users_status",
    on_change=fresh_table,
)
rows = phonelock.list_users(eng, principal, username=username, name=name, extension=extension, status=status)
by_id = {r.user_id: r for r in rows}
now = utcnow()


def pin_text(row: phonelock.UserRow) -> str:
    if row.pin_locked_until and row.pin_locked_until > now:
        return _("Blocked until {time}").format(time=tr.datetime(row.pin_locked_until, zone, "short"))
    return _("Set") if row.has_pin else _("None")


def cucm_text(row: phonelock.UserRow) -> str:
    if not row.enforcement:
        return ""
    return _("In effect") if all(e.in_effect for e in row.enforcement.values()) else _("Waiting for CUCM")


if not rows:
    st.info(_("Nobody matches these filters."))
else:
    table = pl.DataFrame(
        {
            "user_id": [r.user_id for r in rows],
            "first_name": [r.first_name for r in rows],
            "last_name": [r.last_name for r in rows],
            "extensions": [", ".join(r.extensions) for r in rows],
            "status": [_(THEIR_STATUS[r.status]) for r in rows],
            "admin_lock": [r.admin_locked for r in rows],
            "pin": [pin_text(r) for r in rows],
            "cucm": [cucm_text(r) for r in rows],
        },
        schema_overrides={"admin_lock": pl.Boolean},
    )
    edited = st.data_editor(
        table,
        key=editor_key(),
        hide_index=True,
        num_rows="fixed",
        disabled=["user_id", "first_name", "last_name", "extensions", "status", "pin", "cucm"],
        # fixed widths keep the columns where people (and the browser tests) expect them
        column_config={
            "user_id": st.column_config.TextColumn(_("User name"), width=USERS_COLUMN_WIDTHS["user_id"]),
            "first_name": st.column_config.TextColumn(_("First name"), width=USERS_COLUMN_WIDTHS["first_name"]),
            "last_name": st.column_config.TextColumn(_("Last name"), width=USERS_COLUMN_WIDTHS["last_name"]),
            "extensions": st.column_config.TextColumn(_("Extension"), width=USERS_COLUMN_WIDTHS["extensions"]),
            "status": st.column_config.TextColumn(_("Status"), width=USERS_COLUMN_WIDTHS["status"]),
            "admin_lock": st.column_config.CheckboxColumn(
                _("ADMIN LOCK"),
                help=_("Locked by an administrator; the user cannot unlock it."),
                width=USERS_COLUMN_WIDTHS["admin_lock"],
            ),
            "pin": st.column_config.TextColumn(_("PIN")),
            "cucm": st.column_config.TextColumn(_("On CUCM")),
        },
    )
    st.caption(tr.ngettext("{n} person", "{n} people", len(rows)).format(n=tr.number(len(rows))))
    wanted = dict(zip(edited["user_id"].to_list(), edited["admin_lock"].to_list(), strict=True))
    changes = [
        (uid, bool(flag)) for uid, flag in wanted.items() if uid in by_id and bool(flag) != by_id[uid].admin_locked
    ]

    def apply_changes(changes: list[tuple[str, bool]]) -> None:
        """Set or clear the ADMIN LOCK of each changed person's extensions (audited by phonelock)."""
        reason = st.session_state.get("users_reason", "").strip()
        done: list[str] = []
        for uid, flag in changes:
            row = by_id[uid]
            if not row.extensions:
                flash("warning", _("{user} has no extension to lock.").format(user=uid))
                continue
            try:
                for ext in row.extensions:
                    phonelock.set_admin_lock(s, eng, principal, ext, flag, reason if flag else "")
            except PermissionError as exc:
                flash("error", _("That was refused: {reason}").format(reason=exc))
                continue
            done.append(uid)
        st.session_state.pop("users_reason", None)
        fresh_table()
        if done:
            flash("success", _("ADMIN LOCK changed for: {users}.").format(users=", ".join(done)))

    if changes:
        with st.container(border=True, key="users_pending"):
            locking = [uid for uid, flag in changes if flag]
            unlocking = [uid for uid, flag in changes if not flag]
            if locking:
                st.warning(_("Set ADMIN LOCK for: {users}.").format(users=", ".join(locking)))
                st.text_input(_("Reason (shown to the user)"), key="users_reason")
            if unlocking:
                st.warning(_("Remove ADMIN LOCK for: {users}.").format(users=", ".join(unlocking)))
            left, right, _rest = st.columns([1, 1, 3])
            left.button(_("Apply"), key="users_apply", type="primary", on_click=apply_changes, args=(changes,))
            right.button(_("Discard"), key="users_discard", on_click=fresh_table)

# --- PIN reset ------------------------------------------------------------------------------------------
st.subheader(_("Reset a phone PIN"))
digits = s.phone_lock.pin_length


def request_reset() -> None:
    """Check the form and ask for confirmation."""
    user = st.session_state.get("users_pin_user")
    pin = st.session_state.get("users_pin_value", "").strip()
    if not user:
        flash("error", _("Choose the person whose PIN to reset."))
        return
    if pin and phonelock.pin_problem(s, pin):
        flash(
            "error",
            _("A PIN is {n} digits, not a run such as 1234 or one digit repeated such as 0000.").format(n=digits),
        )
        return
    st.session_state["users_pin_value"] = ""
    ask("users_pin", (user, pin or None))


def reset(request: tuple[str, str | None]) -> None:
    user, pin = request
    new_pin = phonelock.reset_pin(s, eng, principal, user, pin)
    st.session_state["users_new_pin"] = (user, new_pin)
    fresh_table()


if rows:
    with st.form("users_pin_form"):
        st.selectbox(
            _("Person"),
            list(by_id),
            format_func=lambda u: f"{u} ({by_id[u].display_name})" if by_id[u].display_name else u,
            index=None,
            placeholder=_("Choose…"),
            key="users_pin_user",
        )
        st.text_input(
            _("New PIN"),
            key="users_pin_value",
            max_chars=digits,
            help=_("Leave it empty to make a random PIN."),
        )
        st.form_submit_button(_("Reset PIN"), key="users_pin_submit", on_click=request_reset)
    waiting = pending("users_pin")
    if waiting:
        confirmation(
            tr,
            "users_pin",
            _("Reset the phone PIN of {user}? The current PIN stops working at once.").format(user=waiting[0]),
            _("Yes, reset"),
            reset,
            ":material/key:",
        )
