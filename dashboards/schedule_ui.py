"""What the Scheduled Reports and Scheduled Alarms pages share: recurrence fields, outcomes, the list,
the actions on one schedule, and the "send by mail" and "schedule" parts of the reports page."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from dashboards.components import plain
from dashboards.session import settings
from warehouse import mail, schedules
from warehouse.access import Principal
from warehouse.i18n import Translator
from warehouse.reports import Filters, ReportResult
from warehouse.reports.mailing import DEFAULT_MESSAGE, MAIL_FORMATS, send_result
from warehouse.schedules import Schedule

SCHEDULE_REQUEST = "schedule_request"
SCHEDULED_REPORTS_PAGE = "app_pages/scheduled_reports.py"
UNIT_CHOICES = ("minutes", "days", "weeks", "months")


def unit_label(tr: Translator, unit: str, n: int) -> str:
    """'every 15 minutes', 'every day', ... in the reader's language."""
    if unit == "minutes":
        return tr.ngettext("Every minute", "Every {n} minutes", n).format(n=tr.number(n))
    if unit == "days":
        return tr.ngettext("Every day", "Every {n} days", n).format(n=tr.number(n))
    if unit == "weeks":
        return tr.ngettext("Every week", "Every {n} weeks", n).format(n=tr.number(n))
    return tr.ngettext("Every month", "Every {n} months", n).format(n=tr.number(n))


def unit_name(tr: Translator, unit: str) -> str:
    """The name of a recurrence unit (for the unit menu)."""
    names = {"minutes": tr.gettext("minutes"), "days": tr.gettext("days"), "weeks": tr.gettext("weeks")}
    return names.get(unit, tr.gettext("months"))


def recurrence_text(tr: Translator, item: Schedule) -> str:
    """How often a schedule runs, from when, in which zone."""
    start = f"{tr.date(item.start_local)} {tr.time(item.start_local)}"
    return tr.gettext("{every}, from {start} ({zone})").format(
        every=unit_label(tr, item.unit, item.every), start=start, zone=item.time_zone
    )


def outcome_text(tr: Translator, engine, item: Schedule) -> str:
    """The last run's outcome in words (a mail that was waiting for a retry shows how it stands now)."""
    status, error = schedules.mail_status(engine, item)
    if status == schedules.SENT:
        n = item.last_recipients or 0
        return tr.ngettext("Sent to {n} recipient", "Sent to {n} recipients", n).format(n=tr.number(n))
    if status == schedules.RETRYING:
        return tr.gettext("Waiting to be sent again: {error}").format(error=error or "")
    if status == schedules.EMPTY:
        return tr.gettext("Nothing to report: not sent")
    if status == schedules.FAILED:
        return tr.gettext("Failed: {error}").format(error=error or "")
    return tr.gettext("Not run yet")


def when(tr: Translator, value: datetime | None, zone: str) -> str:
    """A time in the viewer's zone, or a dash."""
    return tr.datetime(value, zone) if value else "–"


def zones(principal: Principal) -> list[str]:
    """Time zones to offer: the person's, the company's and the sites' first, then all."""
    s = settings()
    first = [principal.time_zone, s.company.time_zone, *[site.time_zone for site in s.sites], "UTC"]
    return list(dict.fromkeys(first + sorted(zoneinfo.available_timezones())))


def reset(prefix: str) -> None:
    """Forget the widgets of a form, so it opens with the values it is given."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def recurrence_fields(tr: Translator, principal: Principal, prefix: str, current: Schedule | None):
    """Every N units from a start date and time in a zone; returns (every, unit, start, zone)."""
    _ = tr.gettext
    if current is not None:
        every, unit, start, zone = current.every, current.unit, current.start_local, current.time_zone
    else:
        tomorrow = datetime.now(zoneinfo.ZoneInfo(principal.time_zone)).date() + timedelta(days=1)
        every, unit, start, zone = 1, "days", datetime.combine(tomorrow, time(7, 0)), principal.time_zone
    c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1, 2])
    every = c1.number_input(_("Every"), min_value=1, max_value=100_000, value=int(every), step=1, key=f"{prefix}every")
    unit = c2.selectbox(
        _("Unit"),
        UNIT_CHOICES,
        index=UNIT_CHOICES.index(unit),
        format_func=lambda u: unit_name(tr, u),
        key=f"{prefix}unit",
    )
    day = c3.date_input(_("Starting on"), value=start.date(), key=f"{prefix}start_day", format="YYYY-MM-DD")
    at = c4.time_input(_("At"), value=start.time(), key=f"{prefix}start_time", step=300)
    choices = zones(principal)
    zone = c5.selectbox(
        _("Time zone"), choices, index=choices.index(zone) if zone in choices else 0, key=f"{prefix}zone"
    )
    return int(every), unit, datetime.combine(day, at), zone


def owner_field(tr: Translator, principal: Principal, engine, prefix: str, current: Schedule | None) -> str:
    """Whose scope the schedule runs in: oneself, or (for an administrator) anyone."""
    owner = current.owner if current is not None else principal.user_id
    if not principal.is_admin:
        return owner
    people = schedules.people(engine)
    ids = [p for p, _name in people]
    names = dict(people)
    if owner not in ids:
        ids.insert(0, owner)
    return st.selectbox(
        tr.gettext("Owner (the report or alarm sees what the owner may see)"),
        ids,
        index=ids.index(owner),
        format_func=lambda i: f"{names.get(i, i)} ({i})",
        key=f"{prefix}owner",
    )


def schedule_table(tr: Translator, engine, items: list[Schedule], zone: str, extra: dict[str, list]) -> pl.DataFrame:
    """The list of schedules (R7, L9): owner, description, last run, last result, next run, ..."""
    _ = tr.gettext
    data = {
        _("Active"): [i.active for i in items],
        _("Owner"): [i.owner_name for i in items],
        _("Description"): [i.description for i in items],
        **extra,
        _("Recipients"): [", ".join(i.recipients) for i in items],
        _("Recurrence"): [recurrence_text(tr, i) for i in items],
        _("Last run"): [cell_text(when(tr, i.last_run_at, zone), tr) for i in items],
        _("Last result"): [outcome_text(tr, engine, i) for i in items],
        _("Next run"): [cell_text(when(tr, i.next_run_at, zone), tr) if i.active else _("Paused") for i in items],
    }
    return pl.DataFrame(data)


def actions(tr: Translator, engine, principal: Principal, items: list[Schedule], prefix: str, edit_state: str) -> None:
    """Pick a schedule and edit, pause or resume, run now, or delete it."""
    _ = tr.gettext
    mine = [i for i in items if schedules.manageable(principal, i)]
    if not mine:
        return
    by_id = {i.id: i for i in mine}
    chosen = st.selectbox(
        _("Schedule"),
        list(by_id),
        format_func=lambda i: f"{by_id[i].description} · {by_id[i].owner_name}",
        key=f"{prefix}pick",
    )
    item = by_id[chosen]
    b1, b2, b3, b4 = st.columns(4)
    if b1.button(_("Edit"), key=f"{prefix}edit", icon=":material/edit:"):
        reset(f"{prefix}f_")  # the form's widgets (keys "<prefix>f_...") start from this schedule
        st.session_state[edit_state] = {"mode": "edit", "id": item.id}
        st.rerun()
    if item.active:
        if b2.button(_("Pause"), key=f"{prefix}pause", icon=":material/pause:"):
            schedules.set_active(engine, principal, item.id, False)
            st.rerun()
    elif b2.button(_("Resume"), key=f"{prefix}resume", icon=":material/play_arrow:"):
        schedules.set_active(engine, principal, item.id, True)
        st.rerun()
    if b3.button(_("Run now"), key=f"{prefix}run", icon=":material/send:"):
        try:
            schedules.run_now(settings(), engine, principal, item.id)
        except schedules.ScheduleError as exc:
            st.error(str(exc))
        else:
            fresh = schedules.get_schedule(engine, item.id)
            if fresh is not None:
                st.session_state[f"{prefix}notice"] = outcome_text(tr, engine, fresh)
            st.rerun()
    if b4.button(_("Delete"), key=f"{prefix}delete", icon=":material/delete:"):
        schedules.delete_schedule(engine, principal, item.id)
        st.session_state[f"{prefix}notice"] = _("Deleted “{name}”.").format(name=plain(item.description))
        st.rerun()
    past = schedules.runs(engine, item.id, limit=10)
    if past:
        with st.expander(_("Last runs"), icon=":material/history:"):
            st.dataframe(
                pl.DataFrame(
                    {
                        _("Run"): [cell_text(when(tr, r.ran_at, principal.time_zone), tr) for r in past],
                        _("Started by"): [_("Schedule") if r.trigger == "scheduled" else _("By hand") for r in past],
                        _("Summary"): [r.message for r in past],
                        _("Error"): [r.error or "" for r in past],
                    }
                ),
                hide_index=True,
                key=f"{prefix}runs",
            )


def save(
    tr: Translator,
    engine,
    principal: Principal,
    spec: schedules.ScheduleSpec,
    current: Schedule | None,
    prefix: str,
    refused: str,
    errors: tuple[type[Exception], ...] = (),
) -> None:
    """Save the schedule of the form whose keys start with `prefix`: on success close the form, say
    when it runs next and rerun; else show `refused` (with "{problem}") and keep the form open."""
    _ = tr.gettext
    try:
        saved = schedules.save_schedule(settings(), engine, principal, spec, current.id if current else None)
    except (schedules.ScheduleError, PermissionError, *errors) as exc:
        st.error(refused.format(problem=str(exc)))
        return
    st.session_state.pop(f"{prefix}form", None)
    reset(f"{prefix}f_")
    st.session_state[f"{prefix}notice"] = _("Saved “{name}”; next run {when}.").format(
        name=plain(saved.description), when=when(tr, saved.next_run_at, principal.time_zone)
    )
    st.rerun()


def notice(prefix: str) -> None:
    """Show (once) what the last action on the page did."""
    text = st.session_state.pop(f"{prefix}notice", None)
    if text:
        st.info(text)


# --- on the reports page --------------------------------------------------------------------------------


def send_by_mail(result: ReportResult, principal: Principal, tr: Translator, engine) -> None:
    """R5: mail this result to several people as Excel or PDF (scoped and masked as the sender sees it)."""
    _ = tr.gettext
    shown = f"{result.name}:{result.filters.to_json()}"
    if st.session_state.get("mail_for") != shown:
        # another report or other options: subject and message start again from this report's
        for key in ("mail_subject", "mail_message"):
            st.session_state.pop(key, None)
        st.session_state["mail_for"] = shown
    with st.expander(_("Send by mail"), icon=":material/mail:"), st.form("mail_form"):
        to = st.text_area(
            _("Recipients"),
            key="mail_to",
            help=_("Mail addresses, separated by commas or on separate lines."),
        )
        fmt = st.radio(
            _("Format"),
            list(MAIL_FORMATS),
            format_func=lambda k: _(MAIL_FORMATS[k]),
            horizontal=True,
            key="mail_format",
        )
        subject = st.text_input(_("Subject"), value=result.title, key="mail_subject")
        message = st.text_area(
            _("Message"),
            value=_(DEFAULT_MESSAGE).format(title=result.title),
            key="mail_message",
            help=_("[[FILTER]] becomes the report's options in words."),
        )
        if not st.form_submit_button(_("Send"), key="mail_send", icon=":material/send:"):
            return
    try:
        mail_id = send_result(settings(), engine, result, to, fmt, subject, message, reply_to=principal.email or None)
    except mail.MailError as exc:
        st.error(_("The mail was not sent: {problem}").format(problem=str(exc)))
        return
    record = mail.message(engine, mail_id)
    n = len(record.recipients) if record else 0
    if record is not None and record.status != mail.SENT:
        st.warning(
            _("The mail server did not take the message yet ({error}); it is sent again automatically.").format(
                error=record.last_error or ""
            )
        )
    else:
        st.success(tr.ngettext("Sent to {n} recipient", "Sent to {n} recipients", n).format(n=tr.number(n)))


def schedule_button(name: str, filters: Filters, saved_id: int | None, tr: Translator) -> None:
    """R6: open the Scheduled Reports page with a new schedule of this report and these options."""
    if st.button(tr.gettext("Schedule by mail"), key="rep_schedule", icon=":material/schedule_send:"):
        st.session_state[SCHEDULE_REQUEST] = {"report": name, "filters": filters.to_json(), "saved_id": saved_id}
        st.switch_page(SCHEDULED_REPORTS_PAGE)
