"""Mail outbox and send log (administrators): every message, its status and error, retry now, and a look
at a message. A message's HTML is reduced to harmless structure and shown in a sandboxed frame that
can run nothing and load nothing."""

from __future__ import annotations

import html as html_lib
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from dashboards.session import engine, require_principal, settings
from warehouse import mail
from warehouse.audit import audit
from warehouse.i18n import N_

principal, tr = require_principal()
_ = tr.gettext
if not principal.is_admin:
    st.warning(_("This page is for administrators."))
    st.stop()
eng = engine()
s = settings()
zone = principal.time_zone
STATUS_NAMES = {mail.QUEUED: N_("Waiting"), mail.SENT: N_("Sent"), mail.FAILED: N_("Failed")}
MAIL_RETRIED = "mail.retried"

# The frame the message is shown in: no scripts, no forms, no same origin, nothing loaded from anywhere.
FRAME = (
    '<iframe sandbox="" referrerpolicy="no-referrer" style="width:100%;height:460px;border:1px solid #d1d5db" '
    'srcdoc="{doc}"></iframe>'
)
DOCUMENT = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    "<style>body{{font-family:sans-serif;font-size:14px}} td,th{{padding:2px 6px;border-bottom:1px solid #eee}}"
    "</style></head><body>{body}</body></html>"
)


def sandboxed(html: str) -> str:
    """The message's HTML, made harmless, inside a frame that may do nothing."""
    doc = DOCUMENT.format(body=mail.safe_html(html))
    return FRAME.format(doc=html_lib.escape(doc, quote=True))


def show_message(path: Path, key: str) -> None:
    """Headers, bodies and attachments of a stored message."""
    if not path.exists():
        st.info(_("The message was handed to the mail server; no copy is kept."))
        return
    msg = mail.read_eml(path)
    headers = ((N_("From"), "From"), (N_("To"), "To"), (N_("Subject"), "Subject"), (N_("Date"), "Date"))
    # shown as plain text: a header is whatever the message says, never markup
    st.code("\n".join(f"{_(label)}: {msg.get(header, '')}" for label, header in headers), language=None)
    text, html = mail.bodies(msg)
    tabs = st.tabs([_("Text"), _("HTML (safe view)")])
    with tabs[0]:
        st.code(text or "", language=None)
    with tabs[1]:
        if html:
            st.iframe(sandboxed(html), height=480)
        else:
            st.write(_("The message has no HTML part."))
    for i, att in enumerate(mail.attachments_of(msg)):
        st.download_button(
            _("Download {name}").format(name=att.filename),
            att.content,
            file_name=att.filename,
            mime=att.mime_type,
            key=f"{key}_att_{i}",
            on_click="ignore",
            icon=":material/attach_file:",
        )


def log_tab() -> None:
    c1, c2 = st.columns(2)
    statuses = ["", mail.QUEUED, mail.SENT, mail.FAILED]
    status = c1.selectbox(
        _("Status"), statuses, format_func=lambda k: _(STATUS_NAMES[k]) if k else _("All"), key="ob_status"
    )
    category = c2.text_input(_("Category"), key="ob_category")
    records = mail.messages(eng, status=status or None, category=category.strip() or None, limit=500)
    if not records:
        st.write(_("No messages."))
        return
    st.dataframe(
        pl.DataFrame(
            {
                _("Created"): [cell_text(tr.datetime(r.created_at, zone), tr) for r in records],
                _("Status"): [_(STATUS_NAMES.get(r.status, r.status)) for r in records],
                _("Attempts"): [r.attempts for r in records],
                _("Recipients"): [", ".join(r.recipients) for r in records],
                _("Subject"): [r.subject for r in records],
                _("Category"): [r.category for r in records],
                _("Next attempt"): [
                    cell_text(tr.datetime(r.next_attempt_at, zone), tr)
                    if r.next_attempt_at and r.status == mail.QUEUED
                    else ""
                    for r in records
                ],
                _("Error"): [r.last_error or "" for r in records],
            }
        ),
        hide_index=True,
        key="ob_table",
    )
    by_id = {r.id: r for r in records}
    chosen = st.selectbox(
        _("Message"),
        list(by_id),
        format_func=lambda i: f"{tr.datetime(by_id[i].created_at, zone)} · {by_id[i].subject}",
        key="ob_pick",
    )
    record = by_id[chosen]
    st.caption(
        _("Status: {status}; attempts: {n}; {transport}").format(
            status=_(STATUS_NAMES.get(record.status, record.status)),
            n=tr.number(record.attempts),
            transport=_("delivered into the outbox folder")
            if record.transport == "outbox"
            else _("sent through the mail server"),
        )
    )
    if record.last_error:
        st.error(_("Last error: {error}").format(error=record.last_error))
    if (
        record.transport == "smtp"
        and record.status != mail.SENT
        and st.button(_("Retry now"), key="ob_retry", icon=":material/refresh:")
    ):
        after = mail.retry_now(s, eng, record.id)
        audit(eng, principal.user_id, MAIL_RETRIED, f"mail:{record.id}", {"subject": record.subject})
        if after is not None and after.status == mail.SENT:
            st.session_state["ob_notice"] = _("The message was sent.")
        else:
            st.session_state["ob_notice"] = _("Not sent: {error}").format(
                error=(after.last_error if after else "") or ""
            )
        st.rerun()
    show_message(Path(record.path), "ob_msg")


def folder_tab() -> None:
    files = mail.outbox_files(s)
    st.caption(_("With no mail server configured, mail is delivered into {folder}.").format(folder=str(s.outbox_dir)))
    if not files:
        st.write(_("The outbox folder is empty."))
        return
    names = [f.name for f in files]
    chosen = st.selectbox(_("File"), names, key="ob_file")
    show_message(s.outbox_dir / chosen, "ob_file_msg")


st.title(_("Mail outbox and log"))
notice = st.session_state.pop("ob_notice", None)
if notice:
    st.info(notice)
log, folder = st.tabs([_("Send log"), _("Outbox folder")])
with log:
    log_tab()
with folder:
    folder_tab()
