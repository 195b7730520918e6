"""Scheduled Alarms (L9): active flag, owner, description, last run, last message, next run; a form per type."""

from __future__ import annotations

import streamlit as st

from dashboards import alarm_forms, schedule_ui
from dashboards.registry import MANAGERS
from dashboards.session import engine, require_principal, settings
from warehouse import schedules
from warehouse.alarms import ALARM_TYPES, AlarmSettingsError
from warehouse.schedules import ScheduleSpec

principal, tr = require_principal()
_ = tr.gettext
if principal.role not in MANAGERS:
    st.warning(_("This page is for supervisors and administrators."))
    st.stop()
eng = engine()
state = st.session_state
FORM = "al_form"
FIELDS = "al_f_"


def type_title(key: str) -> str:
    kind = ALARM_TYPES.get(key)
    return f"{kind.code} · {_(kind.title)}" if kind else key


def offered() -> list[str]:
    """The alarm types this person may own (some look at every call: administrators only)."""
    return [k for k, t in ALARM_TYPES.items() if principal.is_admin or not t.admin_only]


def alarm_form(form: dict) -> None:
    """Create or change an alarm: its type's settings, recipients, recurrence and when to send."""
    current = schedules.get_schedule(eng, form["id"]) if form["mode"] == "edit" else None
    st.subheader(_("Change the alarm") if current else _("New alarm"))
    if current is not None:
        key = current.type
        st.markdown(f"**{type_title(key)}**")
    else:
        key = st.selectbox(_("Alarm"), offered(), format_func=type_title, key=f"{FIELDS}type")
    kind = ALARM_TYPES[key]
    st.caption(_(kind.question))
    sites = [s.name for s in settings().sites]
    defaults = alarm_forms.settings_of(kind.params, current.options if current else None)
    problem = ""
    with st.form("al_edit_form"):
        owner = schedule_ui.owner_field(tr, principal, eng, FIELDS, current)
        description = st.text_input(
            _("Description"), value=current.description if current else _(kind.title), key=f"{FIELDS}description"
        )
        st.markdown(_("Settings"))
        try:
            options = alarm_forms.FORMS[key](tr, f"{FIELDS}{key}_", defaults, sites)
        except alarm_forms.FormError as exc:
            options, problem = None, str(exc)
        recipients = st.text_area(
            _("Recipients"),
            value=", ".join(current.recipients) if current else principal.email,
            help=_("Mail addresses, separated by commas or on separate lines."),
            key=f"{FIELDS}recipients",
        )
        subject = st.text_input(
            _("Subject (none: the alarm's name and what it found)"),
            value=current.subject if current else "",
            key=f"{FIELDS}subject",
        )
        body = st.text_area(_("Message above the list"), value=current.body if current else "", key=f"{FIELDS}body")
        every, unit, start, zone_name = schedule_ui.recurrence_fields(tr, principal, FIELDS, current)
        c1, c2, c3 = st.columns(3)
        skip_empty = c1.checkbox(
            _("Send only if there is something to report"),
            value=current.skip_empty if current else True,
            key=f"{FIELDS}skip_empty",
        )
        attach = c2.checkbox(
            _("Attach an Excel file"), value=(current.format == "xlsx") if current else True, key=f"{FIELDS}attach"
        )
        active = c3.checkbox(_("Active"), value=current.active if current else True, key=f"{FIELDS}active")
        submitted = st.form_submit_button(_("Save"), type="primary", key=f"{FIELDS}save", icon=":material/save:")
    if st.button(_("Cancel"), key="al_cancel"):
        state.pop(FORM, None)
        st.rerun()
    if not submitted:
        return
    if options is None:
        st.error(_("The alarm was not saved: {problem}").format(problem=problem))
        return
    spec = ScheduleSpec(
        kind="alarm",
        type=key,
        recipients=recipients,
        every=every,
        unit=unit,
        start_local=start,
        time_zone=zone_name,
        options=options,
        subject=subject,
        body=body,
        format="xlsx" if attach else "",
        skip_empty=skip_empty,
        active=active,
        description=description,
        owner=owner,
    )
    schedule_ui.save(
        tr, eng, principal, spec, current, "al_", _("The alarm was not saved: {problem}"), (AlarmSettingsError,)
    )


st.title(_("Scheduled alarms"))
schedule_ui.notice("al_")
form = state.get(FORM)
if form:
    alarm_form(form)
else:
    if st.button(_("New alarm"), key="al_new", type="primary", icon=":material/add_alert:"):
        schedule_ui.reset(FIELDS)
        state[FORM] = {"mode": "new"}
        st.rerun()
    items = schedules.list_schedules(eng, principal, "alarm")
    if not items:
        st.write(_("No alarms yet. An alarm checks the calls on a recurrence and mails what it finds."))
    else:
        extra = {
            _("Alarm"): [type_title(i.type) for i in items],
            _("Last message"): [i.last_message for i in items],
        }
        frame = schedule_ui.schedule_table(tr, eng, items, principal.time_zone, extra)
        st.dataframe(frame, hide_index=True, key="al_table")
        schedule_ui.actions(tr, eng, principal, items, "al_", FORM)
