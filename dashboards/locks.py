"""Pieces the budget and phone-lock pages share: lock-state icons and texts, history lines, confirmations.

Actions run in button callbacks (before the page is drawn again), so what a click changed is what the
page then shows; their outcome is kept as a one-time message (`flash`) shown at the top of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from warehouse.budgets import BudgetEvent, BudgetStatus
from warehouse.i18n import N_, Translator
from warehouse.phonelock import LockState

FLASH_KEY = "rl_flash"

# lock status -> material icon, text on the person's own page, text on the administrators' pages
STATUS_ICONS = {
    "unlocked": ":material/lock_open:",
    "user": ":material/lock_person:",
    "budget": ":material/money_off:",
    "admin": ":material/admin_panel_settings:",
}
MY_STATUS = {
    "unlocked": N_("Unlocked"),
    "user": N_("Locked by you"),
    "budget": N_("Locked by budget"),
    "admin": N_("ADMIN LOCK"),
}
THEIR_STATUS = {
    "unlocked": N_("Unlocked"),
    "user": N_("Locked by the user"),
    "budget": N_("Locked by budget"),
    "admin": N_("ADMIN LOCK"),
}
STRENGTH = {"unlocked": 0, "user": 1, "budget": 2, "admin": 3}
# The Users page's table columns and their widths in pixels, left to right (fixed, so they stay put).
USERS_COLUMN_WIDTHS = {
    "user_id": 150,
    "first_name": 130,
    "last_name": 130,
    "extensions": 110,
    "status": 170,
    "admin_lock": 120,
}

PERIOD_NAMES = {"weekly": N_("Weekly"), "monthly": N_("Monthly")}
SCOPE_NAMES = {"user": N_("Person"), "department": N_("Department"), "cost_centre": N_("Cost centre")}
EVENT_NAMES = {
    "assigned": N_("Budget assigned"),
    "changed": N_("Budget changed"),
    "removed": N_("Budget removed"),
    "lock": N_("Phone locked"),
    "unlock": N_("Phone unlocked"),
    "notification": N_("Notification sent"),
    "period_end": N_("End of period"),
    "carry_over": N_("Carry-over"),
}
# Why a budget lock went, as warehouse.budgets records it.
UNLOCK_REASONS = {
    "new period": N_("a new period started"),
    "budget no longer spent": N_("the budget is no longer spent"),
    "budget removed": N_("the budget was removed"),
}


def strongest(states: Iterable[LockState]) -> str:
    """The strongest lock status among some extensions ('unlocked' when none is locked)."""
    return max((s.status for s in states), key=STRENGTH.__getitem__, default="unlocked")


def status_text(tr: Translator, status: str, own: bool = True) -> str:
    """A lock status with its icon, for markdown ('own' words it for the phone's user)."""
    names = MY_STATUS if own else THEIR_STATUS
    return f"{STATUS_ICONS[status]} {tr.gettext(names[status])}"


def budget_lock_text(tr: Translator, state: LockState, budgets: dict[int, BudgetStatus], zone: str) -> str:
    """'Locked by budget X until <next period>' for a budget-locked extension, in the reader's zone."""
    _ = tr.gettext
    held = [budgets[b] for b in state.budget_ids if b in budgets]
    if not held:
        return _("Locked by a spent budget")
    # the phone stays locked until the last of its spent budgets starts a new period
    last = max(held, key=lambda b: b.period_end)
    return _("Locked by budget “{budget}” until {until}").format(
        budget=last.name, until=tr.datetime(last.period_end, zone, "short")
    )


def event_text(tr: Translator, event: BudgetEvent) -> str:
    """What a history line says happened, in the reader's language."""
    _ = tr.gettext
    amount = tr.money(event.amount, event.currency) if event.amount is not None else ""
    ext = event.extension or ""
    if event.kind == "lock":
        return _("Extension {extension} locked: {amount} spent").format(extension=ext, amount=amount)
    if event.kind == "unlock":
        reason = UNLOCK_REASONS.get(event.detail)
        return _("Extension {extension} unlocked: {reason}").format(
            extension=ext, reason=_(reason) if reason else event.detail
        )
    if event.kind == "notification":
        parts = [_("{pct}% reached, {amount} spent").format(pct=event.threshold or 0, amount=amount)]
        parts += [_mail_part(tr, piece.strip()) for piece in event.detail.split(";") if piece.strip()]
        return "; ".join(parts)
    if event.kind == "period_end":
        return _("{amount} spent in the period").format(amount=amount)
    if event.kind == "carry_over":
        return _("{amount} carried over to the next period").format(amount=amount)
    if event.kind in ("assigned", "changed"):
        return _("Amount {amount}").format(amount=amount)
    return ""


def _mail_part(tr: Translator, piece: str) -> str:
    _ = tr.gettext
    if piece.startswith("mailed to "):
        return _("mail sent to {recipients}").format(recipients=piece.removeprefix("mailed to "))
    if piece == "no mail sent":
        return _("no mail sent")
    if piece.startswith("no mail address for "):
        return _("no mail address for {people}").format(people=piece.removeprefix("no mail address for "))
    return piece  # a mail server's own error message


# --- one-time messages and confirmations -------------------------------------------------------------


def flash(kind: str, text: str) -> None:
    """Keep a message ('success', 'info', 'warning', 'error') to show once when the page is drawn next."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    """Show, once, the messages kept by `flash`."""
    for kind, text in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(text)


def ask(key: str, payload: Any) -> None:
    """Ask for confirmation of an action on `payload` (drawn by `confirmation` with the same key)."""
    st.session_state[f"confirm_{key}"] = payload


def pending(key: str) -> Any:
    """What waits for confirmation under this key, or None."""
    return st.session_state.get(f"confirm_{key}")


def confirmation(
    tr: Translator, key: str, message: str, yes_label: str, on_yes: Callable[[Any], None], yes_icon: str = ""
) -> None:
    """When an action waits for confirmation: the question, a Yes button that runs it, and Cancel."""
    payload = pending(key)
    if payload is None:
        return

    def yes() -> None:
        st.session_state.pop(f"confirm_{key}", None)
        try:
            on_yes(payload)
        except (PermissionError, ValueError) as exc:
            flash("error", tr.gettext("That was refused: {reason}").format(reason=exc))

    def cancel() -> None:
        st.session_state.pop(f"confirm_{key}", None)

    with st.container(border=True):
        st.warning(message)
        left, right, _rest = st.columns([1, 1, 3])
        left.button(yes_label, key=f"{key}_yes", type="primary", on_click=yes, icon=yes_icon or None)
        right.button(tr.gettext("Cancel"), key=f"{key}_cancel", on_click=cancel)
