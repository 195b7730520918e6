"""My Phone (P1): lock or unlock my own extension with one button, see why it is locked, change my PIN."""

from __future__ import annotations

import streamlit as st

from dashboards.locks import STATUS_ICONS, budget_lock_text, flash, show_flash, status_text, strongest
from dashboards.session import engine, require_principal, settings
from warehouse import budgets, enforcement, phonelock

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone

st.title(_("My Phone"))
show_flash()


def why_locked(states: dict[str, phonelock.LockState], mine: dict[int, budgets.BudgetStatus]) -> str:
    """Why the phone stays locked whatever its user does (an ADMIN LOCK, a spent budget)."""
    admin = [x for x in states.values() if x.admin_locked]
    if admin:
        reasons = sorted({x.admin_reason for x in admin if x.admin_reason})
        text = _("An administrator has locked your phone (ADMIN LOCK). Only an administrator can unlock it.")
        if reasons:
            text += " " + _("Reason: {reason}").format(reason="; ".join(reasons))
        return text
    held = [x for x in states.values() if x.budget_locked]
    if held:
        return (
            budget_lock_text(tr, held[0], mine, zone)
            + ". "
            + _("Your budget is spent: the phone unlocks by itself when the next period starts.")
        )
    return ""


def change_lock(lock: bool) -> None:
    """The button's action: lock, or unlock unless someone else's lock holds the phone."""
    states = phonelock.my_phone(eng, principal)
    mine = {b.budget.id: b for b in budgets.my_budgets(s, eng, principal)}
    if not lock and not any(x.user_locked for x in states.values()):
        flash("error", _("You cannot unlock your phone.") + " " + why_locked(states, mine))
        return
    after = phonelock.set_user_lock(s, eng, principal, lock)
    if lock:
        flash(
            "success", _("Your phone is locked: no outgoing calls outside the company. Emergency numbers still work.")
        )
    elif any(x.locked for x in after.values()):
        flash("warning", _("Your own lock is removed, but the phone stays locked.") + " " + why_locked(after, mine))
    else:
        flash("success", _("Your phone is unlocked."))


if not principal.extensions:
    st.info(_("No extension is assigned to you, so there is no phone to lock."))
    st.stop()

states = phonelock.my_phone(eng, principal)
mine = {b.budget.id: b for b in budgets.my_budgets(s, eng, principal)}
overall = strongest(states.values())
locked = overall != "unlocked"

with st.container(border=True, key="my_phone_state"):
    st.markdown("### " + status_text(tr, overall))
    for ext, state in states.items():
        line = status_text(tr, state.status)
        if state.status == "budget":
            line = f"{STATUS_ICONS['budget']} {budget_lock_text(tr, state, mine, zone)}"
        st.markdown(_("Extension {extension}").format(extension=ext) + f" — {line}")
    if locked:
        st.caption(_("Locked: no outgoing calls outside the company. Emergency numbers always work."))
        reason = why_locked(states, mine)
        if reason:
            st.info(reason, icon=":material/info:")
    st.button(
        _("Unlock my phone") if locked else _("Lock my phone"),
        key="my_phone_toggle",
        type="primary",
        icon=":material/lock_open:" if locked else ":material/lock:",
        on_click=change_lock,
        args=(not locked,),
    )
    waiting = [e for e in enforcement.states(eng, list(states)).values() if not e.in_effect]
    if waiting:
        st.caption(_("The change is recorded; the phone system has not applied it yet and is retried automatically."))

# --- the phone PIN (used on the IP phone's lock menu) ---------------------------------------------------
st.subheader(_("Phone PIN"))
digits = s.phone_lock.pin_length
st.caption(
    _("You enter this {n}-digit PIN on your IP phone to lock or unlock it from the phone's menu.").format(n=digits)
)
has_pin = phonelock.has_pin(eng, principal.user_id)
with st.form("pin_form", clear_on_submit=True):
    old = ""
    if has_pin:
        old = st.text_input(_("Current PIN"), type="password", max_chars=digits, key="pin_old")
    new = st.text_input(_("New PIN"), type="password", max_chars=digits, key="pin_new")
    repeat = st.text_input(_("New PIN again"), type="password", max_chars=digits, key="pin_repeat")
    submitted = st.form_submit_button(_("Change my PIN") if has_pin else _("Set my PIN"), key="pin_submit")
if submitted:
    if has_pin:
        result = phonelock.change_pin(s, eng, principal.user_id, old, new, repeat)
    elif new != repeat:
        result = phonelock.PinResult(False, "mismatch")
    elif problem := phonelock.pin_problem(s, new):
        result = phonelock.PinResult(False, problem)
    else:
        phonelock.set_pin(s, eng, principal, principal.user_id, new)
        result = phonelock.PinResult(True, "ok")
    if result.ok:
        st.success(_("Your PIN is changed.") if has_pin else _("Your PIN is set."))
    elif result.reason == "wrong":
        st.error(
            tr.ngettext(
                "The current PIN is wrong. {n} more wrong PIN locks PIN entry for a while.",
                "The current PIN is wrong. {n} more wrong PINs lock PIN entry for a while.",
                result.remaining,
            ).format(n=result.remaining)
        )
    elif result.reason == "locked_out":
        st.error(
            _("Too many wrong PINs: PIN entry is locked until {time}.").format(
                time=tr.datetime(result.locked_until, zone, "short")
            )
        )
    elif result.reason == "mismatch":
        st.error(_("The two new PINs are not the same."))
    elif result.reason == "weak":
        st.error(_("Choose a PIN that is not a run such as 1234 or one digit repeated such as 0000."))
    elif result.reason == "no_pin":
        st.error(_("You have no PIN yet."))
    else:
        st.error(_("A PIN is exactly {n} digits.").format(n=digits))
