"""Scheduled Reports (R6, R7): reports mailed on a recurrence, with their last run, last result and next run."""

from __future__ import annotations

import streamlit as st

from dashboards import schedule_ui
from dashboards.session import engine, require_principal, settings
from warehouse import schedules
from warehouse.access import mask_digits
from warehouse.reports import Filters, get, list_reports
from warehouse.reports.filters import describe
from warehouse.reports.mailing import DEFAULT_MESSAGE, FILTER_PLACEHOLDER, MAIL_FORMATS
from warehouse.reports.store import get_saved, personal_reports
from warehouse.schedules import ScheduleSpec

principal, tr = require_principal()
_ = tr.gettext
eng = engine()
state = st.session_state
FORM = "sr_form"  # what the form is showing: {"mode": "new" | "edit", ...}
FIELDS = "sr_f_"  # prefix of the form's widget keys


def title_of(name: str) -> str:
    try:
        return _(get(name).title)
    except KeyError:
        return name


request = state.pop(schedule_ui.SCHEDULE_REQUEST, None)
if request:
    schedule_ui.reset(FIELDS)
    state[FORM] = {"mode": "new", "report": request["report"], "filters": request["filters"], "saved_id": None}
    if request.get("saved_id"):
        state[FORM]["saved_id"] = request["saved_id"]


def source_of_new(form: dict) -> tuple[str, Filters, int | None] | None:
    """Which report and options a new schedule mails: as asked from a report, a personal report, or the catalogue."""
    if form.get("report"):
        st.markdown(f"**{title_of(form['report'])}**")
        return form["report"], Filters.from_json(form["filters"]), form.get("saved_id")
    mine = personal_reports(eng, principal.user_id)
    sources = ["personal", "catalogue"] if mine else ["catalogue"]
    source = st.radio(
        _("Report to send"),
        sources,
        format_func=lambda k: _("One of my personal reports") if k == "personal" else _("A catalogue report"),
        horizontal=True,
        key=f"{FIELDS}source",
    )
    if source == "personal":
        by_id = {r.id: r for r in mine}
        chosen = st.selectbox(
            _("Personal report"),
            list(by_id),
            format_func=lambda i: f"{by_id[i].name} · {title_of(by_id[i].report)}",
            key=f"{FIELDS}saved",
        )
        saved = by_id[chosen]
        return saved.report, saved.filters, saved.id
    reports = list_reports()
    names = [r.name for r in reports]
    name = st.selectbox(_("Report"), names, format_func=title_of, key=f"{FIELDS}report")
    st.caption(
        _("Its default options are used; to change them, open the report, set its options and use “Schedule by mail”.")
    )
    return name, get(name).defaults, None


def schedule_form(form: dict) -> None:
    """Create or change a scheduled report."""
    current = schedules.get_schedule(eng, form["id"]) if form["mode"] == "edit" else None
    st.subheader(_("Change the scheduled report") if current else _("New scheduled report"))
    if current is not None:
        report, filters, saved_id = current.type, Filters.from_json(current.options), current.saved_report_id
        st.markdown(f"**{title_of(report)}**")
        if saved_id and get_saved(eng, current.owner, saved_id):
            st.caption(
                _("Made from the personal report “{name}”.").format(name=get_saved(eng, current.owner, saved_id).name)
            )
    else:
        picked = source_of_new(form)
        if picked is None:
            return
        report, filters, saved_id = picked
    zone = principal.time_zone
    st.caption(
        _("Options: {options}").format(
            options=describe(filters, tr, filters.time_zone or zone, None, mask_digits(settings(), principal.role))
        )
    )
    with st.form("sr_edit_form"):
        owner = schedule_ui.owner_field(tr, principal, eng, FIELDS, current)
        description = st.text_input(
            _("Description"), value=current.description if current else title_of(report), key=f"{FIELDS}description"
        )
        recipients = st.text_area(
            _("Recipients"),
            value=", ".join(current.recipients) if current else principal.email,
            help=_("Mail addresses, separated by commas or on separate lines."),
            key=f"{FIELDS}recipients",
        )
        formats = list(MAIL_FORMATS)
        fmt = st.radio(
            _("Format"),
            formats,
            index=formats.index(current.format) if current and current.format in formats else 0,
            format_func=lambda k: _(MAIL_FORMATS[k]),
            horizontal=True,
            key=f"{FIELDS}format",
        )
        subject = st.text_input(
            _("Subject"), value=current.subject if current else title_of(report), key=f"{FIELDS}subject"
        )
        default_body = _(DEFAULT_MESSAGE).format(title=title_of(report)) + "\n\n" + FILTER_PLACEHOLDER
        body = st.text_area(
            _("Message"),
            value=current.body if current else default_body,
            help=_("[[FILTER]] becomes the report's options in words."),
            key=f"{FIELDS}body",
        )
        every, unit, start, zone_name = schedule_ui.recurrence_fields(tr, principal, FIELDS, current)
        c1, c2 = st.columns(2)
        skip_empty = c1.checkbox(
            _("Don't send if empty"), value=current.skip_empty if current else True, key=f"{FIELDS}skip_empty"
        )
        active = c2.checkbox(_("Active"), value=current.active if current else True, key=f"{FIELDS}active")
        submitted = st.form_submit_button(_("Save"), type="primary", key=f"{FIELDS}save", icon=":material/save:")
    if st.button(_("Cancel"), key="sr_cancel"):
        state.pop(FORM, None)
        st.rerun()
    if not submitted:
        return
    spec = ScheduleSpec(
        kind="report",
        type=report,
        recipients=recipients,
        every=every,
        unit=unit,
        start_local=start,
        time_zone=zone_name,
        options=filters.to_json(),
        subject=subject,
        body=body,
        format=fmt,
        skip_empty=skip_empty,
        active=active,
        description=description,
        owner=owner,
        saved_report_id=saved_id,
    )
    schedule_ui.save(tr, eng, principal, spec, current, "sr_", _("The schedule was not saved: {problem}"))


st.title(_("Scheduled reports"))
schedule_ui.notice("sr_")
form = state.get(FORM)
if form:
    schedule_form(form)
else:
    if st.button(_("New scheduled report"), key="sr_new", type="primary", icon=":material/add:"):
        schedule_ui.reset(FIELDS)
        state[FORM] = {"mode": "new"}
        st.rerun()
    items = schedules.list_schedules(eng, principal, "report")
    if not items:
        st.write(_("No reports are scheduled yet. Open a report and use “Schedule by mail”, or make one here."))
    else:
        frame = schedule_ui.schedule_table(
            tr, eng, items, principal.time_zone, {_("Report"): [title_of(i.type) for i in items]}
        )
        st.dataframe(frame, hide_index=True, key="sr_table")
        schedule_ui.actions(tr, eng, principal, items, "sr_", FORM)
