"""Settings (administrators): what the configuration file holds that an administrator changes at run time.

Each change is checked with the configuration's own rules before it is stored, written to the audit log,
and used by every part of Ringledger from its next read of the configuration (`warehouse.runtime_settings`).
The file keeps the defaults; "Back to the file's values" forgets a change.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboards.admin import require_admin, show_problems, when
from dashboards.locks import flash, show_flash
from dashboards.session import engine, settings
from warehouse import runtime_settings
from warehouse.config import SESSION_CHANNELS, WEEKDAYS
from warehouse.i18n import LANGUAGES, N_
from warehouse.reports.engine import logo_path as report_logo_path
from warehouse.runtime_settings import SettingsRefused

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
state = st.session_state

ROLES = {"user": N_("Users"), "supervisor": N_("Supervisors"), "administrator": N_("Administrators")}
CHANNELS = {
    "portal": N_("Portal"),
    "gadget": N_("Jabber and Webex gadgets"),
    "phone": N_("IP phone service"),
    "api": N_("JSON API"),
}
SECURITY = {
    "starttls": N_("STARTTLS (usually port 587)"),
    "tls": N_("TLS from the start (usually port 465)"),
    "none": N_("None (a trusted relay only)"),
}
ENFORCEMENT = {
    "record": N_("Record only: Ringledger keeps the lock states, CUCM is not told"),
    "axl": N_("AXL: move locked lines to the blocking calling search space"),
    "curri": N_("External Call Control: CUCM asks Ringledger before each call"),
}
DAY_NAMES = {
    "monday": N_("Monday"),
    "tuesday": N_("Tuesday"),
    "wednesday": N_("Wednesday"),
    "thursday": N_("Thursday"),
    "friday": N_("Friday"),
    "saturday": N_("Saturday"),
    "sunday": N_("Sunday"),
}
PROBLEMS = "set_problems"

st.title(_("Settings"))
st.caption(
    _(
        "These settings apply everywhere at once, without a restart. The configuration file keeps the defaults; "
        "ports, the database, the directory server and passwords stay in the file and the environment."
    )
)
show_flash()
for refused in s.runtime.refused:
    st.error(
        _("A stored change no longer fits the configuration file and is not applied: {problem}").format(problem=refused)
    )


def save(section: str, changes: dict) -> None:
    """Store a section's changes (all or nothing); problems are shown in that section."""
    try:
        done = runtime_settings.change(s, eng, principal.user_id, changes)
    except SettingsRefused as exc:
        state[PROBLEMS] = (section, exc.problems)
        return
    state[PROBLEMS] = None
    if done:
        flash("success", _("Saved. Every part of Ringledger uses the new values from now on."))
    else:
        flash("info", _("Nothing changed."))


def problems(section: str) -> None:
    found = state.get(PROBLEMS)
    if found and found[0] == section:
        show_problems(tr, found[1])


# --- privacy --------------------------------------------------------------------------------------------------

st.subheader(_("Privacy"))
with st.form("set_privacy"):
    st.caption(
        _("How many trailing digits of outside numbers each role does not see (on screen, in exports, in mail).")
    )
    cols = st.columns(3)
    for col, (role, label) in zip(cols, ROLES.items(), strict=True):
        col.number_input(
            _(label),
            min_value=0,
            max_value=20,
            step=1,
            value=s.privacy.mask_digits.get(role, 3),
            key=f"set_mask_{role}",
        )
    submitted = st.form_submit_button(_("Save privacy"), key="set_privacy_save")
if submitted:
    save("privacy", {f"privacy.mask_digits.{r}": int(state[f"set_mask_{r}"]) for r in ROLES})
    st.rerun()
problems("privacy")

# --- sessions -------------------------------------------------------------------------------------------------

st.subheader(_("Log-in sessions"))
with st.form("set_sessions"):
    st.caption(_("How long a log-in lasts, in minutes, before the person must log in again."))
    cols = st.columns(len(SESSION_CHANNELS))
    for col, channel in zip(cols, SESSION_CHANNELS, strict=True):
        col.number_input(
            _(CHANNELS[channel]),
            min_value=1,
            max_value=525_600,
            step=1,
            value=s.sessions.minutes.get(channel, 480),
            key=f"set_session_{channel}",
        )
    submitted = st.form_submit_button(_("Save sessions"), key="set_sessions_save")
if submitted:
    save("sessions", {f"sessions.minutes.{c}": int(state[f"set_session_{c}"]) for c in SESSION_CHANNELS})
    st.rerun()
problems("sessions")

# --- portal and reports --------------------------------------------------------------------------------------

st.subheader(_("Portal and reports"))
languages = ["", *LANGUAGES]
with st.form("set_portal"):
    c1, c2 = st.columns(2)
    c1.selectbox(
        _("Default language"),
        languages,
        index=languages.index(s.portal.default_language) if s.portal.default_language in languages else 0,
        format_func=lambda c: (
            LANGUAGES.get(c)
            or _("The company's ({language})").format(language=LANGUAGES.get(s.company.language, s.company.language))
        ),
        key="set_language",
        help=_("For people who chose no language and whose directory entry and site name none."),
    )
    c2.number_input(
        _("Home refreshes its last calls every (seconds, 0: never)"),
        min_value=0,
        max_value=3600,
        step=5,
        value=s.portal.refresh_seconds,
        key="set_refresh",
    )
    submitted = st.form_submit_button(_("Save portal"), key="set_portal_save")
if submitted:
    save(
        "portal",
        {"portal.default_language": state["set_language"], "portal.refresh_seconds": int(state["set_refresh"])},
    )
    st.rerun()
problems("portal")

logo = report_logo_path(s)
left, right = st.columns([1, 3])
with left:
    st.markdown(_("**Logo on PDF reports**"))
    if logo is not None and logo.exists():
        st.image(str(logo), width=160)
    elif logo is not None:
        st.warning(_("The logo file {path} is missing; reports use Ringledger's own.").format(path=logo))
    else:
        st.caption(_("Ringledger's own logo."))
with right:
    upload = st.file_uploader(_("New logo (PNG, JPEG or SVG, at most 2 MB)"), type=["png", "jpg", "jpeg", "svg"])
    b1, b2, _rest = st.columns([1, 1, 2])
    if upload is not None and b1.button(_("Use this logo"), key="set_logo_save", type="primary"):
        try:
            runtime_settings.store_report_logo(s, eng, principal.user_id, upload.getvalue())
        except SettingsRefused as exc:
            state[PROBLEMS] = ("logo", exc.problems)
        else:
            state[PROBLEMS] = None
            flash("success", _("The reports print the new logo from now on."))
            st.rerun()
    if s.portal.report_logo and b2.button(_("Use Ringledger's logo"), key="set_logo_reset"):
        save("logo", {"portal.report_logo": ""})
        st.rerun()
problems("logo")

# --- mail ----------------------------------------------------------------------------------------------------

st.subheader(_("Mail"))
with st.form("set_mail"):
    st.caption(
        _(
            "Without a mail server, messages are kept as files in the outbox folder. The server's password is "
            "read from the environment variable {variable}, never stored here."
        ).format(variable=s.smtp.password_env)
    )
    c1, c2, c3 = st.columns([2, 1, 2])
    c1.text_input(_("Mail server (SMTP host)"), value=s.smtp.host, key="set_smtp_host")
    c2.number_input(_("Port"), min_value=1, max_value=65535, value=s.smtp.port, key="set_smtp_port")
    c3.selectbox(
        _("Encryption"),
        list(SECURITY),
        index=list(SECURITY).index(s.smtp.security),
        format_func=lambda k: _(SECURITY[k]),
        key="set_smtp_security",
    )
    c4, c5 = st.columns(2)
    c4.text_input(_("User name on the mail server"), value=s.smtp.username, key="set_smtp_user")
    c5.text_input(_("Sender"), value=s.smtp.sender, key="set_smtp_sender", help="Ringledger <ringledger@example.com>")
    st.checkbox(_("Check the server's certificate"), value=s.smtp.verify_tls, key="set_smtp_verify")
    submitted = st.form_submit_button(_("Save mail"), key="set_mail_save")
if submitted:
    save(
        "mail",
        {
            "smtp.host": state["set_smtp_host"].strip(),
            "smtp.port": int(state["set_smtp_port"]),
            "smtp.security": state["set_smtp_security"],
            "smtp.username": state["set_smtp_user"].strip(),
            "smtp.sender": state["set_smtp_sender"].strip(),
            "smtp.verify_tls": bool(state["set_smtp_verify"]),
        },
    )
    st.rerun()
problems("mail")

# --- phone lock ----------------------------------------------------------------------------------------------

st.subheader(_("Phone lock"))
with st.form("set_lock"):
    st.radio(
        _("How a locked phone is kept from calling out"),
        list(ENFORCEMENT),
        index=list(ENFORCEMENT).index(s.cucm.enforcement),
        format_func=lambda k: _(ENFORCEMENT[k]),
        key="set_enforcement",
    )
    submitted = st.form_submit_button(_("Save phone lock"), key="set_lock_save")
if submitted:
    save("lock", {"cucm.enforcement": state["set_enforcement"]})
    st.rerun()
problems("lock")

# --- data health ----------------------------------------------------------------------------------------------

st.subheader(_("CDR feed watch"))
with st.form("set_health"):
    st.caption(
        _("A CUCM node that sends no CDR file for this long during working time is reported silent (Data health).")
    )
    c1, c2 = st.columns([1, 1])
    c1.number_input(
        _("Minutes of silence"),
        min_value=5,
        max_value=10080,
        step=5,
        value=s.data_health.silent_minutes,
        key="set_silent",
    )
    c2.text_input(
        _("Working hours ({zone})").format(zone=s.company.time_zone),
        value=s.data_health.working_hours,
        key="set_hours",
        help="08:00-18:00",
    )
    st.multiselect(
        _("Working days"),
        list(WEEKDAYS),
        default=list(s.data_health.working_days),
        format_func=lambda d: _(DAY_NAMES[d]),
        key="set_days",
    )
    submitted = st.form_submit_button(_("Save CDR feed watch"), key="set_health_save")
if submitted:
    save(
        "health",
        {
            "data_health.silent_minutes": int(state["set_silent"]),
            "data_health.working_hours": state["set_hours"].strip(),
            "data_health.working_days": [d for d in WEEKDAYS if d in state["set_days"]],
        },
    )
    st.rerun()
problems("health")

# --- what is stored ---------------------------------------------------------------------------------------------

st.subheader(_("Changed at run time"))
stored = runtime_settings.stored(eng)
if not stored:
    st.caption(_("Nothing: every setting is as the configuration file has it."))
else:
    st.dataframe(
        pd.DataFrame(
            {
                _("Setting"): [o.path for o in stored],
                _("Value"): [json.dumps(o.value, ensure_ascii=False) for o in stored],
                _("Changed by"): [o.updated_by for o in stored],
                _("Changed"): [when(tr, o.updated_at, zone) for o in stored],
            }
        ),
        hide_index=True,
        key="set_stored",
    )
    chosen = st.multiselect(
        _("Settings to put back to the file's values"), [o.path for o in stored], key="set_reset_paths"
    )
    if chosen and st.button(_("Back to the file's values"), key="set_reset"):
        try:
            runtime_settings.reset(s, eng, principal.user_id, chosen)
        except SettingsRefused as exc:
            state[PROBLEMS] = ("reset", exc.problems)
        else:
            flash("success", _("Back to the file's values: {settings}.").format(settings=", ".join(chosen)))
            st.session_state.pop("set_reset_paths", None)
            st.rerun()
    problems("reset")
