"""Scheduled reports and send-now through a real SMTP server: recipients, subject, [[FILTER]], body and
an attachment that opens and holds the owner's calls only, masked, whoever receives it."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pypdf
import pytest

from tests.lock_data import staff, write_calls
from warehouse import mail, schedules
from warehouse.access import load_principal
from warehouse.config import load_settings
from warehouse.reports import Filters, run_report
from warehouse.reports.mailing import send_result
from warehouse.schedules import ScheduleSpec

pytestmark = pytest.mark.app_databases

MARCH = Filters(period="custom", date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


@pytest.fixture
def company(home, smtp_server):
    (home / "ringledger.toml").write_text(
        f'[company]\nname = "Test Company"\ntime_zone = "Europe/Rome"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\n'
        'sender = "Ringledger <calls@example.org>"\n'
    )
    settings = load_settings()
    engine = staff(settings)
    when = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    write_calls(
        settings,
        [
            {"extension": "2001", "started_at": when, "other_number": "00390211111111", "cost": Decimal("1.10")},
            {"extension": "2001", "started_at": when + timedelta(hours=1), "other_number": "00390222222222"},
            {"extension": "2002", "started_at": when, "other_number": "00390233333333"},
            {"extension": "2003", "started_at": when, "other_number": "00390244444444"},
            {"extension": "3999", "started_at": when, "other_number": "00390255555555"},  # nobody's
            {"extension": "2001", "started_at": datetime(2026, 4, 2, 9, tzinfo=UTC), "other_number": "0039029999999"},
        ],
    )
    return settings, engine, smtp_server


def make(settings, engine, owner, **changes):
    spec = ScheduleSpec(
        kind="report",
        type="call_list",
        options=MARCH.to_json(),
        recipients="boss@example.org; Extern Partner <partner@example.net>",
        every=1,
        unit="days",
        start_local=datetime(2026, 1, 1, 7, 0),
        subject="Calls of March",
        body="Hello,\n\nthe calls ([[FILTER]]).\n\nRegards",
        format="xlsx",
    )
    spec = dataclasses.replace(spec, **changes)
    item = schedules.save_schedule(settings, engine, load_principal(engine, owner), spec)
    with engine.begin() as conn:  # due now
        conn.execute(
            schedules.schedule.update()
            .where(schedules.schedule.c.id == item.id)
            .values(next_run_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    return item


def sheet_values(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_a_scheduled_excel_report_reaches_every_recipient_with_the_owners_calls_only(company):
    settings, engine, smtp = company
    item = make(settings, engine, "anna")
    [outcome] = schedules.run_due(settings, engine)
    assert outcome.status == schedules.SENT
    assert outcome.recipients == 2
    assert len(smtp.messages) == 1
    got = smtp.messages[0]
    assert got.mail_from == "calls@example.org"
    assert sorted(got.rcpt_tos) == ["boss@example.org", "partner@example.net"]
    assert got.message["Subject"] == "Calls of March"
    assert got.message["Reply-To"] == "anna@example.org"
    text = got.message.get_body(("plain",)).get_content()
    description = run_report(settings, load_principal(engine, "anna"), "call_list", MARCH).description
    assert description.startswith("Period: Between two dates (")
    assert f"the calls ({description})." in text
    assert "[[FILTER]]" not in text
    assert text.startswith("Hello,")
    assert "Regards" in text
    html = got.message.get_body(("html",)).get_content()
    assert "the calls (Period: Between two dates" in html
    [att] = list(got.message.iter_attachments())
    assert att.get_filename().endswith(".xlsx")
    rows = sheet_values(att.get_content())
    cells = [c for row in rows for c in row if c is not None]
    assert "00390211111***" in cells
    assert "00390222222***" in cells
    assert not [c for c in cells if isinstance(c, str) and c.startswith(("0039023", "0039024", "0039025"))]
    assert "00390211111111" not in cells  # masked for anna's role
    assert "0039029999***" not in cells  # April is outside the options
    stored = schedules.get_schedule(engine, item.id)
    assert stored.last_status == schedules.SENT
    assert stored.last_recipients == 2
    assert stored.last_count == 2
    assert stored.next_run_at > datetime.now(UTC)
    assert schedules.runs(engine, item.id)[0].status == schedules.SENT


def test_a_supervisors_pdf_report_is_in_their_language_and_scope(company):
    settings, engine, smtp = company
    make(settings, engine, "maria", format="pdf", subject="Anrufe [[FILTER]]")
    [outcome] = schedules.run_due(settings, engine)
    assert outcome.status == schedules.SENT
    got = smtp.messages[0].message
    assert got["Subject"].startswith("Anrufe Zeitraum: Zwischen zwei Daten (")
    text = got.get_body(("plain",)).get_content()
    assert "Zeitraum: Zwischen zwei Daten" in text
    [att] = list(got.iter_attachments())
    assert att.get_content_type() == "application/pdf"
    pdf_text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(att.get_content())).pages)
    for masked in ("00390211111***", "00390222222***", "00390233333***", "00390244444***"):
        assert masked in pdf_text
    assert "00390255555" not in pdf_text  # extension 3999 belongs to nobody she manages
    assert "00390211111111" not in pdf_text


def test_an_empty_report_is_not_sent_unless_asked(company):
    settings, engine, smtp = company
    april_first = Filters(period="custom", date_from=date(2026, 4, 1), date_to=date(2026, 4, 1)).to_json()
    item = make(settings, engine, "anna", options=april_first)
    [outcome] = schedules.run_due(settings, engine)
    assert outcome.status == schedules.EMPTY
    assert not smtp.messages
    anna = load_principal(engine, "anna")
    schedules.save_schedule(settings, engine, anna, dataclasses.replace(item.spec(), skip_empty=False), item.id)
    schedules.run_now(settings, engine, load_principal(engine, "anna"), item.id)
    assert len(smtp.messages) == 1


def test_a_run_missed_while_the_daemon_was_down_is_caught_up_once(company):
    settings, engine, smtp = company
    item = make(settings, engine, "anna")
    with engine.begin() as conn:  # ten daily runs missed
        conn.execute(schedules.schedule.update().values(next_run_at=datetime.now(UTC) - timedelta(days=10, minutes=1)))
    assert len(schedules.run_due(settings, engine)) == 1
    assert schedules.run_due(settings, engine) == []
    assert len(smtp.messages) == 1
    stored = schedules.get_schedule(engine, item.id)
    assert datetime.now(UTC) < stored.next_run_at <= datetime.now(UTC) + timedelta(days=1)


def test_processes_running_the_due_schedules_at_the_same_moment_send_each_report_once(company):
    import threading

    settings, engine, smtp = company
    for n in range(3):
        make(settings, engine, "anna", subject=f"Calls {n}")
    start = threading.Barrier(4)
    ran: list[schedules.RunOutcome] = []

    def daemon() -> None:
        start.wait()
        ran.extend(schedules.run_due(settings, engine))

    workers = [threading.Thread(target=daemon) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert sorted(o.status for o in ran) == [schedules.SENT] * 3
    # one message per run, to both recipients
    assert sorted(m.message["Subject"] for m in smtp.messages) == ["Calls 0", "Calls 1", "Calls 2"]


def test_a_failing_server_is_shown_and_the_mail_module_retries(home, smtp_server):
    from tests.services import free_port

    (home / "ringledger.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nretry_base_seconds = 1\n'
    )
    settings = load_settings()
    engine = staff(settings)
    write_calls(settings, [{"extension": "2001", "started_at": datetime(2026, 3, 10, 9, tzinfo=UTC)}])
    item = make(settings, engine, "anna")
    [outcome] = schedules.run_due(settings, engine)
    assert outcome.status == schedules.RETRYING
    assert "Connection refused" in outcome.error or "Errno" in outcome.error
    stored = schedules.get_schedule(engine, item.id)
    assert schedules.mail_status(engine, stored)[0] == schedules.RETRYING
    record = mail.message(engine, stored.last_mail_id)
    assert record.status == mail.QUEUED
    assert record.attempts == 1


def test_send_now_mails_the_senders_masked_export(company):
    settings, engine, smtp = company
    anna = load_principal(engine, "anna")
    result = run_report(settings, anna, "call_list", MARCH)
    send_result(
        settings, engine, result, "a@example.org,b@example.org", "pdf", "My calls", "See the attachment. [[FILTER]]"
    )
    got = smtp.messages[0]
    assert sorted(got.rcpt_tos) == ["a@example.org", "b@example.org"]
    text = got.message.get_body(("plain",)).get_content()
    assert f"See the attachment. {result.description}" in text
    [att] = list(got.message.iter_attachments())
    pdf_text = pypdf.PdfReader(io.BytesIO(att.get_content())).pages[0].extract_text()
    assert "00390211111***" in pdf_text
    assert "00390233333" not in pdf_text
    with pytest.raises(mail.MailError, match="not a mail address: someone"):
        send_result(settings, engine, result, "a@example.org, someone", "xlsx")
    assert len(smtp.messages) == 1


def test_schedule_settings_are_checked(company):
    settings, engine, _smtp = company
    anna = load_principal(engine, "anna")
    base = ScheduleSpec(
        kind="report",
        type="call_list",
        recipients="a@example.org",
        every=1,
        unit="days",
        start_local=datetime(2026, 1, 1, 7, 0),
    )
    for change, message in (
        ({"type": "horoscope"}, "not in the catalogue"),
        ({"recipients": "nobody"}, "not a mail address"),
        ({"format": "csv"}, "xlsx or pdf"),
        ({"every": 0}, "at least 1"),
        ({"options": '{"period": "someday"}'}, "unknown period"),
        ({"owner": "bruno"}, "only an administrator"),
    ):
        with pytest.raises((schedules.ScheduleError, PermissionError), match=message):
            schedules.save_schedule(settings, engine, anna, dataclasses.replace(base, **change))
    mine = schedules.save_schedule(settings, engine, anna, base)
    bruno = load_principal(engine, "bruno")
    with pytest.raises(PermissionError):
        schedules.delete_schedule(engine, bruno, mine.id)
    assert schedules.list_schedules(engine, bruno, "report") == []
    assert [s.id for s in schedules.list_schedules(engine, load_principal(engine, "root"), "report")] == [mine.id]
    paused = schedules.set_active(engine, anna, mine.id, False)
    assert paused.next_run_at is None
    assert schedules.due(engine) == []
    assert schedules.set_active(engine, anna, mine.id, True).next_run_at is not None
    assert schedules.delete_schedule(engine, anna, mine.id)
