"""AppTests of mail in the portal: send-now from a report, Scheduled Reports, Scheduled Alarms, the outbox."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pypdf
import pytest
from streamlit.testing.v1 import AppTest

from tests.lock_data import staff
from tests.services import free_port
from warehouse import appdb, auth, mail, schedules
from warehouse.access import load_principal
from warehouse.config import load_settings
from warehouse.reports import Filters

PAGES = Path(__file__).resolve().parents[2] / "dashboards"


def page(settings, name: str, user_id: str, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=60)
    engine = appdb.open_db(settings)
    at.session_state["rl_token"] = auth.start_session(settings, engine, load_principal(engine, user_id), "portal")
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return at.run()


def outbox_message(settings, subject: str):
    for path in mail.outbox_files(settings):
        msg = mail.read_eml(path)
        if msg["Subject"] == subject:
            return msg
    return None


def frame_text(at: AppTest, key: str) -> str:
    """The text of the page's list (its first table; `key` names it for the reader)."""
    return at.dataframe[0].value.to_string() if at.dataframe else ""


def test_send_now_mails_the_report_as_the_sender_sees_it(ravello):
    at = page(ravello, "app_pages/reports.py", "giulia.rossi")
    at.button(key="cat_run_call_list").click().run()
    assert at.title[0].value == "Call list"
    subject = f"My calls {uuid.uuid4().hex[:6]}"
    at.text_area(key="mail_to").input("boss@ravello.example, Auditor <audit@ravello.example>")
    at.radio(key="mail_format").set_value("pdf")
    at.text_input(key="mail_subject").input(subject)
    at.text_area(key="mail_message").input("For the review. [[FILTER]]")
    at.button(key="mail_send").click().run()
    assert not at.exception
    assert at.success[0].value == "Sent to 2 recipients"
    msg = outbox_message(ravello, subject)
    assert msg["To"] == "boss@ravello.example, Auditor <audit@ravello.example>"
    assert msg["Reply-To"] == "giulia@ravello.example"
    assert "For the review. Period: This month" in msg.get_body(("plain",)).get_content()
    att = next(msg.iter_attachments())
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(att.get_content())).pages)
    assert "00212345***" in text  # Giulia's call, masked as she sees it
    assert "00212345678" not in text
    assert "00287654" not in text  # Marco's call is not hers


def test_send_now_refuses_a_wrong_address_and_sends_nothing(ravello):
    at = page(ravello, "app_pages/reports.py", "giulia.rossi")
    at.button(key="cat_run_call_list").click().run()
    before = len(mail.outbox_files(ravello))
    at.text_area(key="mail_to").input("boss@ravello.example; not-an-address")
    at.button(key="mail_send").click().run()
    assert at.error[0].value == "The mail was not sent: recipients: not a mail address: not-an-address"
    assert len(mail.outbox_files(ravello)) == before


def test_a_report_sent_to_the_schedule_page_keeps_its_options(ravello):
    request = {
        "report": "cost_by_department",
        "filters": Filters(period="last_month", departments=["Finance"]).to_json(),
        "saved_id": None,
    }
    at = page(ravello, "app_pages/scheduled_reports.py", "james.carter", {"schedule_request": request})
    assert at.subheader[0].value == "New scheduled report"
    assert "Departments: Finance" in " ".join(c.value for c in at.caption)
    at.text_area(key="sr_f_recipients").input("james@ravello.example, finance@ravello.example")
    at.number_input(key="sr_f_every").set_value(1)
    at.selectbox(key="sr_f_unit").select("months")
    at.text_input(key="sr_f_description").input("Finance, monthly")
    at.button(key="sr_f_save").click().run()
    assert not at.exception
    engine = appdb.open_db(ravello)
    [item] = [s for s in schedules.list_schedules(engine, load_principal(engine, "james.carter"), "report")]
    assert item.description == "Finance, monthly"
    assert Filters.from_json(item.options).departments == ["Finance"]
    assert item.unit == "months"
    assert item.recipients == ("james@ravello.example", "finance@ravello.example")
    assert "[[FILTER]]" in item.body
    assert "Finance, monthly" in frame_text(at, "sr_table")
    schedules.delete_schedule(engine, load_principal(engine, "james.carter"), item.id)


def test_a_schedule_can_be_made_from_a_personal_report(ravello):
    from warehouse.reports.store import delete_saved, save_report

    engine = appdb.open_db(ravello)
    saved = save_report(engine, "emily.wong", "Long calls", "call_list", Filters(period="last_30_days", max_rows=50))
    at = page(ravello, "app_pages/scheduled_reports.py", "emily.wong")
    at.button(key="sr_new").click().run()
    assert at.radio(key="sr_f_source").value == "personal"
    at.selectbox(key="sr_f_saved").select(saved.id).run()
    at.text_area(key="sr_f_recipients").input("emily@ravello.example")
    at.button(key="sr_f_save").click().run()
    emily = load_principal(engine, "emily.wong")
    [item] = schedules.list_schedules(engine, emily, "report")
    assert item.saved_report_id == saved.id
    assert Filters.from_json(item.options).max_rows == 50
    schedules.delete_schedule(engine, emily, item.id)
    delete_saved(engine, "emily.wong", saved.id)


def test_scheduled_reports_create_run_pause_edit_delete(ravello):
    engine = appdb.open_db(ravello)
    at = page(ravello, "app_pages/scheduled_reports.py", "james.carter")
    assert at.title[0].value == "Scheduled reports"
    at.button(key="sr_new").click().run()
    at.selectbox(key="sr_f_report").select("call_list").run()
    at.text_area(key="sr_f_recipients").input("james@ravello.example")
    at.text_input(key="sr_f_subject").input("James weekly")
    at.selectbox(key="sr_f_unit").select("weeks")
    at.button(key="sr_f_save").click().run()
    assert not at.exception
    assert at.info[0].value.startswith("Saved “Call list”; next run ")
    table = frame_text(at, "sr_table")
    for text in ("James Carter", "Call list", "Not run yet", "Every week"):
        assert text in table
    at.button(key="sr_run").click().run()
    assert at.info[0].value == "Sent to 1 recipient"
    msg = outbox_message(ravello, "James weekly")
    assert msg is not None
    assert "Sent to 1 recipient" in frame_text(at, "sr_table")
    at.button(key="sr_pause").click().run()
    assert "Paused" in frame_text(at, "sr_table")
    at.button(key="sr_resume").click().run()
    assert "Paused" not in frame_text(at, "sr_table")
    at.button(key="sr_edit").click().run()
    assert at.subheader[0].value == "Change the scheduled report"
    at.text_input(key="sr_f_subject").input("James, every week")
    at.button(key="sr_f_save").click().run()
    [item] = schedules.list_schedules(engine, load_principal(engine, "james.carter"), "report")
    assert item.subject == "James, every week"
    at.button(key="sr_delete").click().run()
    assert at.info[0].value == "Deleted “Call list”."
    assert schedules.list_schedules(engine, load_principal(engine, "james.carter"), "report") == []


def test_scheduled_alarms_page_creates_runs_and_checks_each_form(ravello):
    engine = appdb.open_db(ravello)
    at = page(ravello, "app_pages/scheduled_alarms.py", "admin")
    assert at.title[0].value == "Scheduled alarms"
    at.button(key="al_new").click().run()
    at.selectbox(key="al_f_type").select("outside_hours").run()
    at.text_area(key="al_f_outside_hours_site_hours").input("New York; weekdays; 9-5")
    at.text_area(key="al_f_recipients").input("it@ravello.example")
    at.button(key="al_f_save").click().run()
    assert at.error[0].value.startswith("The alarm was not saved: line 1: days 'weekdays' must look like 1-5")
    at.text_area(key="al_f_outside_hours_site_hours").input("New York; 1-5; 09:00-17:00")
    at.checkbox(key="al_f_skip_empty").uncheck()
    at.button(key="al_f_save").click().run()
    assert not at.exception
    [alarm] = schedules.list_schedules(engine, load_principal(engine, "admin"), "alarm")
    assert alarm.type == "outside_hours"
    assert '"site":"New York"' in alarm.options
    table = frame_text(at, "al_table")
    assert "L1 · Calls outside working hours" in table
    assert "Administrator" in table
    at.button(key="al_run").click().run()
    assert not at.exception
    stored = schedules.get_schedule(engine, alarm.id)
    assert stored.last_status == schedules.SENT  # always sent: "only if something to report" is off
    assert stored.last_message.endswith("outside working hours")
    assert stored.last_message in frame_text(at, "al_table")
    at.button(key="al_delete").click().run()
    assert schedules.list_schedules(engine, load_principal(engine, "admin"), "alarm") == []


@pytest.mark.parametrize(
    "key",
    [
        "forbidden_numbers",
        "spending",
        "missed_calls",
        "international",
        "feed_silent",
        "unknown_destinations",
        "unknown_extensions",
        "call_quality",
        "anomaly",
    ],
)
def test_every_alarm_type_has_a_form_that_saves(ravello, key):
    engine = appdb.open_db(ravello)
    at = page(ravello, "app_pages/scheduled_alarms.py", "admin")
    at.button(key="al_new").click().run()
    at.selectbox(key="al_f_type").select(key).run()
    if key == "forbidden_numbers":
        at.text_area(key="al_f_forbidden_numbers_prefixes").input("00899\n+44909")
    at.text_area(key="al_f_recipients").input("it@ravello.example")
    at.button(key="al_f_save").click().run()
    assert not at.exception
    assert not at.error
    [alarm] = schedules.list_schedules(engine, load_principal(engine, "admin"), "alarm")
    assert alarm.type == key
    schedules.delete_schedule(engine, load_principal(engine, "admin"), alarm.id)


def test_users_cannot_open_the_alarms_page(ravello):
    at = page(ravello, "app_pages/scheduled_alarms.py", "giulia.rossi")
    assert at.warning[0].value == "This page is for supervisors and administrators."


def test_outbox_shows_errors_retries_now_and_views_a_message_safely(home, smtp_server):
    (home / "ringledger.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nmax_attempts = 1\n'
    )
    settings = load_settings()
    engine = staff(settings)
    row_id = mail.send(
        settings,
        engine,
        "anna@example.org",
        "Quarterly costs",
        html='<p>Costs</p><script>alert("x")</script><img src="http://tracker.example/p.png">',
    )
    assert mail.message(engine, row_id).status == mail.FAILED
    (home / "ringledger.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\nmax_attempts = 1\n'
    )
    settings = load_settings()
    at = page(settings, "app_pages/outbox.py", "root")
    assert at.title[0].value == "Mail outbox and log"
    table = frame_text(at, "ob_table")
    assert "Quarterly costs" in table
    assert "Failed" in table
    assert at.error[0].value.startswith("Last error: ")
    at.button(key="ob_retry").click().run()
    assert at.info[0].value == "The message was sent."
    assert [m.message["Subject"] for m in smtp_server.messages] == ["Quarterly costs"]
    assert mail.message(engine, row_id).status == mail.SENT
    assert "anna@example.org" in frame_text(at, "ob_table")


def test_outbox_folder_lists_delivered_messages(ravello):
    mail.send(ravello, appdb.open_db(ravello), "x@ravello.example", "Folder check", text="hello")
    at = page(ravello, "app_pages/outbox.py", "admin")
    names = at.selectbox(key="ob_file").options
    assert names
    assert outbox_message(ravello, "Folder check") is not None
    code = " ".join(c.value for c in at.code)
    assert "Subject:" in code
    assert page(ravello, "app_pages/outbox.py", "giulia.rossi").warning[0].value == "This page is for administrators."


def test_safe_html_keeps_text_and_drops_what_could_run_or_load():
    html = (
        '<html><head><style>body{display:none}</style></head><body onload="x()">'
        '<p>Hello <b>Ann</b></p><script>alert(1)</script><img src="http://t.example/x.png" onerror="y()">'
        '<a href="javascript:z()">click</a><table><tr><td align="right">1</td></tr></table></body></html>'
    )
    safe = mail.safe_html(html)
    assert safe == '<p>Hello <b>Ann</b></p>click<table><tr><td align="right">1</td></tr></table>'
