"""Budgets (B1, administrators): who has which budget, spend against it, and assigning, changing, removing them.

Supervisors see the spend of the budgets of their people; only administrators assign budgets.
"""

from __future__ import annotations

import re
import zoneinfo

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from dashboards.locks import PERIOD_NAMES, SCOPE_NAMES, ask, confirmation, flash, pending, show_flash
from dashboards.session import engine, require_principal, settings
from warehouse import budgets
from warehouse.i18n import N_

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
if principal.role not in ("administrator", "supervisor"):
    st.error(_("Only administrators and supervisors may open this page."))
    st.stop()

# Why a field was refused, by the field budgets.BudgetInputError names.
FIELD_PROBLEMS = {
    "scope": N_("Choose a person, a department or a cost centre."),
    "subject": N_("Nobody active belongs to this; choose another."),
    "period": N_("Choose weekly or monthly."),
    "amount": N_("Enter an amount greater than zero, for example 150 or 99.50."),
    "currency": N_("Enter a three-letter currency code such as EUR."),
    "thresholds": N_("Enter whole percentages from 1 to 1000, separated by commas, for example 80, 100."),
    "time_zone": N_("Choose a known time zone."),
}
ERRORS_KEY = "bud_errors"

st.title(_("Budgets"))
show_flash()

# --- spend against budget, this period ------------------------------------------------------------------
overview = budgets.budget_overview(s, eng, principal)
st.subheader(_("This period"))
if not overview:
    st.info(_("No budget is assigned yet."))
else:
    spend_cols = [
        _("Budget"),
        _("For"),
        _("Period"),
        _("Budget amount"),
        _("Spent"),
        _("Remaining"),
        _("Used"),
        _("Phones locked"),
        _("Until"),
    ]
    spend = pl.DataFrame(
        {
            spend_cols[0]: [o.name for o in overview],
            spend_cols[1]: [o.budget.subject for o in overview],
            spend_cols[2]: [_(PERIOD_NAMES[o.budget.period]) for o in overview],
            spend_cols[3]: [cell_text(tr.money(o.allowance, o.budget.currency), tr) for o in overview],
            spend_cols[4]: [cell_text(tr.money(o.spent, o.budget.currency), tr) for o in overview],
            spend_cols[5]: [cell_text(tr.money(o.remaining, o.budget.currency), tr) for o in overview],
            spend_cols[6]: [min(o.percent, 100) for o in overview],
            spend_cols[7]: [sum(1 for p in o.phones.values() if o.budget.id in p.budget_ids) for o in overview],
            spend_cols[8]: [cell_text(tr.date(o.until), tr) for o in overview],
        },
        schema_overrides={spend_cols[6]: pl.Int64, spend_cols[7]: pl.Int64},
    )
    st.dataframe(
        spend,
        hide_index=True,
        key="bud_overview",
        column_config={
            spend_cols[6]: st.column_config.ProgressColumn(spend_cols[6], min_value=0, max_value=100, format="%d%%")
        },
    )
    st.caption(_("Spend is brought up to date by the pipelines seconds after each batch of calls arrives."))

if not principal.is_admin:
    st.info(_("Only administrators assign budgets."))
    st.stop()

# --- every budget, as assigned --------------------------------------------------------------------------
current = budgets.budgets(eng)
by_id = {b.id: b for b in current}
st.subheader(_("Assigned budgets"))
if current:
    list_cols = [
        _("Budget"),
        _("Assigned to"),
        _("For"),
        _("Period"),
        _("Amount"),
        _("Currency"),
        _("Carry-over"),
        _("Thresholds"),
        _("Time zone"),
        _("Locks phones"),
        _("Note"),
    ]
    listing = pl.DataFrame(
        {
            list_cols[0]: [b.label(tr.language) for b in current],
            list_cols[1]: [_(SCOPE_NAMES[b.scope]) for b in current],
            list_cols[2]: [b.subject for b in current],
            list_cols[3]: [_(PERIOD_NAMES[b.period]) for b in current],
            list_cols[4]: [cell_text(tr.money(b.amount, b.currency), tr) for b in current],
            list_cols[5]: [b.currency for b in current],
            list_cols[6]: [b.carry_over for b in current],
            list_cols[7]: [", ".join(f"{t}%" for t in b.thresholds) for b in current],
            list_cols[8]: [b.time_zone for b in current],
            list_cols[9]: [b.lock_on_exhaust for b in current],
            list_cols[10]: [b.note for b in current],
        },
        schema_overrides={list_cols[6]: pl.Boolean, list_cols[9]: pl.Boolean},
    )
    st.dataframe(listing, hide_index=True, key="bud_list")
else:
    st.write(_("No budget is assigned yet."))

# --- assign, change, remove --------------------------------------------------------------------------------


def set_form(b: budgets.Budget | None) -> None:
    """Fill the form with a budget, or with a new budget's defaults."""
    state = st.session_state
    state["bud_scope"] = b.scope if b else "user"
    state["bud_subject"] = b.subject if b else None
    state["bud_period"] = b.period if b else "monthly"
    state["bud_amount"] = f"{b.amount.normalize():f}" if b else ""
    state["bud_currency"] = b.currency if b else s.company.currency
    state["bud_carry"] = b.carry_over if b else False
    state["bud_thresholds"] = ", ".join(str(t) for t in (b.thresholds if b else s.budgets.thresholds))
    state["bud_zone"] = b.time_zone if b else ""
    state["bud_lock"] = b.lock_on_exhaust if b else s.budgets.lock_on_exhaust
    state["bud_note"] = b.note if b else ""
    state[ERRORS_KEY] = {}


def picked() -> None:
    choice = st.session_state.get("bud_pick")
    set_form(by_id.get(choice) if choice is not None else None)


def save() -> None:
    """Assign (or change) the budget in the form; refused fields are shown beside themselves."""
    state = st.session_state
    errors: dict[str, str] = {}
    try:
        thresholds = [int(t) for t in re.split(r"[\s,;%]+", state["bud_thresholds"]) if t]
    except ValueError:
        errors["thresholds"] = "thresholds"
        thresholds = []
    if not state.get("bud_subject"):
        errors["subject"] = "subject"
    if errors:
        state[ERRORS_KEY] = errors
        return
    try:
        budget_id = budgets.assign_budget(
            s,
            eng,
            principal,
            state["bud_scope"],
            state["bud_subject"],
            state["bud_period"],
            state["bud_amount"],
            currency=state["bud_currency"],
            carry_over=state["bud_carry"],
            thresholds=thresholds,
            time_zone=state["bud_zone"] or None,
            lock_on_exhaust=state["bud_lock"],
            note=state["bud_note"].strip(),
        )
    except budgets.BudgetInputError as exc:
        state[ERRORS_KEY] = {exc.field: str(exc)}
        return
    except PermissionError as exc:
        state[ERRORS_KEY] = {}
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    state[ERRORS_KEY] = {}
    state["bud_pick"] = budget_id
    saved = budgets.budgets(eng)
    set_form(next((b for b in saved if b.id == budget_id), None))
    flash("success", _("Budget saved."))


def remove(budget_id: int) -> None:
    budgets.remove_budget(s, eng, principal, budget_id)
    st.session_state["bud_pick"] = None
    set_form(None)
    flash("success", _("Budget removed; the phones it held locked are released."))


def problem(field: str) -> None:
    """The reason a field was refused, right under it."""
    if field in st.session_state.get(ERRORS_KEY, {}):
        st.error(_(FIELD_PROBLEMS[field]), icon=":material/error:")


if "bud_period" not in st.session_state:
    set_form(None)
if st.session_state.get("bud_pick") not in (None, *by_id):
    st.session_state["bud_pick"] = None  # removed meanwhile
    set_form(None)

st.subheader(_("Assign or change a budget"))
top_left, top_right = st.columns([3, 1], vertical_alignment="bottom")
pick = top_left.selectbox(
    _("Budget"),
    [None, *by_id],
    format_func=lambda i: _("New budget") if i is None else f"{by_id[i].label(tr.language)} – {by_id[i].subject}",
    key="bud_pick",
    on_change=picked,
)
if pick is not None:
    top_right.button(_("Remove"), key="bud_remove", icon=":material/delete:", on_click=ask, args=("bud_remove", pick))
    doomed = pending("bud_remove")
    if doomed in by_id:
        confirmation(
            tr,
            "bud_remove",
            _(
                "Remove the budget “{budget}” of {subject}? It stops counting and releases the phones it holds locked."
            ).format(budget=by_id[doomed].label(tr.language), subject=by_id[doomed].subject),
            _("Yes, remove"),
            remove,
            ":material/delete:",
        )

editing = pick is not None
st.selectbox(
    _("Assigned to"),
    list(budgets.SCOPES),
    format_func=lambda k: _(SCOPE_NAMES[k]),
    key="bud_scope",
    disabled=editing,
)
problem("scope")
subjects = dict(budgets.budget_subjects(eng, st.session_state["bud_scope"]))
if st.session_state.get("bud_subject") not in subjects:
    st.session_state["bud_subject"] = None
known = list(dict.fromkeys([s.company.time_zone, *(site.time_zone for site in s.sites), "UTC"]))
zones = ["", *known, *sorted(z for z in zoneinfo.available_timezones() if z not in known)]

with st.form("bud_form", border=True):
    st.selectbox(
        _("Person") if st.session_state["bud_scope"] == "user" else _(SCOPE_NAMES[st.session_state["bud_scope"]]),
        list(subjects),
        format_func=lambda v: subjects.get(v, v),
        index=None,
        placeholder=_("Choose…"),
        key="bud_subject",
        disabled=editing,
    )
    problem("subject")
    st.radio(
        _("Period"),
        list(budgets.PERIODS),
        format_func=lambda p: _(PERIOD_NAMES[p]),
        horizontal=True,
        key="bud_period",
    )
    problem("period")
    amount_col, currency_col = st.columns([3, 1])
    with amount_col:
        st.text_input(_("Amount"), key="bud_amount", placeholder="150.00")
        problem("amount")
    with currency_col:
        st.text_input(_("Currency"), key="bud_currency", max_chars=3)
        problem("currency")
    st.checkbox(_("Carry what a period leaves unspent over to the next one"), key="bud_carry")
    st.text_input(
        _("Notification thresholds (%)"),
        key="bud_thresholds",
        help=_("A mail goes to the person and their manager once per period when spend reaches each percentage."),
    )
    problem("thresholds")
    st.selectbox(
        _("Time zone"),
        zones,
        format_func=lambda z: z or _("Automatic (where its people are)"),
        key="bud_zone",
    )
    problem("time_zone")
    st.checkbox(_("Lock the phones when the budget is spent"), key="bud_lock")
    st.text_input(_("Note"), key="bud_note")
    st.form_submit_button(
        _("Save changes") if editing else _("Assign budget"), type="primary", key="bud_save", on_click=save
    )
