"""Mail: the outbox by default, SMTP (plain, STARTTLS with login), the send log and retries."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
import xlsxwriter
from aiosmtpd.controller import Controller

from tests.services import SmtpServer, _Collect, free_port
from warehouse import appdb, mail
from warehouse.appdb import utcnow
from warehouse.config import load_settings

pytestmark = pytest.mark.app_databases


def configure(home, text: str):
    (home / "ringledger.toml").write_text(text)
    return load_settings()


def workbook(rows: list[list]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Calls")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    return buf.getvalue()


ROWS = [["extension", "number", "cost"], ["2001", "0212345678", 1.25], ["2002", "0039061234", 0.5]]


def test_default_delivers_into_the_outbox_one_eml_per_message(settings):
    engine = appdb.open_db(settings)
    data = workbook(ROWS)
    first = mail.send(
        settings,
        engine,
        ["anna@example.org", "Bruno Conti <bruno@example.org>"],
        "Monthly costs",
        html="<p>Costs of <b>January</b> &amp; February</p>",
        attachments=[mail.Attachment("costs.xlsx", data, mail.XLSX)],
    )
    mail.send(settings, engine, "carla@example.org", "Second", text="plain only")
    files = mail.outbox_files(settings)
    assert len(files) == 2
    assert not [p for p in settings.outbox_dir.iterdir() if p.name.startswith(".")]  # no half-written file
    record = mail.message(engine, first)
    assert record.status == mail.SENT
    assert record.transport == "outbox"
    msg = mail.read_eml(record.path)
    assert msg["Subject"] == "Monthly costs"
    assert msg["To"] == "anna@example.org, Bruno Conti <bruno@example.org>"
    assert msg.get_body(("html",)).get_content().strip() == "<p>Costs of <b>January</b> &amp; February</p>"
    assert "Costs of January & February" in msg.get_body(("plain",)).get_content()
    att = next(msg.iter_attachments())
    assert att.get_filename() == "costs.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(att.get_content())).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == ROWS


def test_smtp_delivers_recipients_subject_bodies_and_attachment(home, smtp_server):
    settings = configure(
        home,
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\nsecurity = "none"\n'
        'sender = "Ringledger <calls@example.org>"\n',
    )
    engine = appdb.open_db(settings)
    data = workbook(ROWS)
    row_id = mail.send(
        settings,
        engine,
        ["anna@example.org", "bruno@example.org"],
        "Costs: Überblick",
        html="<p>Hello</p>",
        text="Hello",
        attachments=[
            mail.Attachment("costs.xlsx", data, mail.XLSX),
            mail.Attachment("costs.csv", b"a,b\n1,2\n", mail.CSV),
        ],
        cc=["maria@example.org"],
    )
    assert len(smtp_server.messages) == 1
    got = smtp_server.messages[0]
    assert got.mail_from == "calls@example.org"
    assert sorted(got.rcpt_tos) == ["anna@example.org", "bruno@example.org", "maria@example.org"]
    assert got.message["Subject"] == "Costs: Überblick"
    assert got.message.get_body(("plain",)).get_content().strip() == "Hello"
    assert got.message.get_body(("html",)).get_content().strip() == "<p>Hello</p>"
    atts = {a.get_filename(): a for a in got.message.iter_attachments()}
    assert atts["costs.xlsx"].get_content() == data
    assert atts["costs.csv"].get_content_type() == "text/csv"
    record = mail.message(engine, row_id)
    assert record.status == mail.SENT
    assert record.attempts == 1
    assert record.last_error is None
    assert not list(settings.mail_spool_dir.glob("*.eml"))  # spool emptied once accepted


def test_starttls_with_login_and_a_verified_certificate(home, smtp_tls_server, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_SMTP_PASSWORD", "mailpw")
    settings = configure(
        home,
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_tls_server.port}\nsecurity = "starttls"\n'
        f'username = "mailer"\nca_file = "{smtp_tls_server.cert}"\n',
    )
    engine = appdb.open_db(settings)
    row_id = mail.send(settings, engine, "anna@example.org", "Over TLS", text="secret report")
    assert mail.message(engine, row_id).status == mail.SENT
    assert smtp_tls_server.logins == ["mailer"]
    assert smtp_tls_server.messages[0].message["Subject"] == "Over TLS"


def test_wrong_password_is_recorded_and_retried_later(home, smtp_tls_server, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_SMTP_PASSWORD", "wrong")
    settings = configure(
        home,
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_tls_server.port}\nusername = "mailer"\n'
        f'ca_file = "{smtp_tls_server.cert}"\nretry_base_seconds = 60\n',
    )
    engine = appdb.open_db(settings)
    row_id = mail.send(settings, engine, "anna@example.org", "Report", text="x")
    record = mail.message(engine, row_id)
    assert record.status == mail.QUEUED
    assert record.attempts == 1
    assert "535" in record.last_error
    monkeypatch.setenv("RINGLEDGER_SMTP_PASSWORD", "mailpw")  # the administrator fixes the password
    assert mail.retry_due(settings, engine) == []  # not due yet: backoff
    assert mail.retry_due(settings, engine, now=utcnow() + timedelta(minutes=2)) == [row_id]
    assert mail.message(engine, row_id).status == mail.SENT
    assert smtp_tls_server.messages[0].message["Subject"] == "Report"


def test_server_down_queues_backs_off_then_delivers_and_gives_up_after_max_attempts(home):
    port = free_port()
    settings = configure(
        home,
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nmax_attempts = 3\n'
        "retry_base_seconds = 60\ntimeout_seconds = 5\n",
    )
    engine = appdb.open_db(settings)
    kept = mail.send(settings, engine, "anna@example.org", "Kept", text="body")
    lost = mail.send(settings, engine, "bruno@example.org", "Given up", text="body")
    first = mail.message(engine, kept)
    assert first.status == mail.QUEUED
    assert first.attempts == 1
    assert "Connection refused" in first.last_error
    assert first.next_attempt_at - first.created_at >= timedelta(seconds=59)
    assert mail.due_count(engine) == 0
    # second attempt, still down: the wait doubles
    tried_at = utcnow()
    assert sorted(mail.retry_due(settings, engine, now=tried_at + timedelta(minutes=2))) == sorted([kept, lost])
    second = mail.message(engine, kept)
    assert second.attempts == 2
    assert second.next_attempt_at - tried_at >= timedelta(seconds=119)
    # the server comes back: the first message goes out, byte for byte as composed
    server = SmtpServer("127.0.0.1", port)
    ctl = Controller(_Collect(server), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        mail.retry_due(settings, engine, now=utcnow() + timedelta(minutes=10))
    finally:
        ctl.stop()
    assert mail.message(engine, kept).status == mail.SENT
    assert {m.message["Subject"] for m in server.messages} == {"Kept", "Given up"}
    # a message whose attempts run out is failed, visible, and can be queued again
    settings3 = configure(
        home,
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nmax_attempts = 1\n',
    )
    dead = mail.send(settings3, engine, "carla@example.org", "Dead", text="x")
    assert mail.message(engine, dead).status == mail.FAILED
    assert [m.id for m in mail.messages(engine, status=mail.FAILED)] == [dead]
    assert mail.requeue(engine, dead)
    assert mail.message(engine, dead).status == mail.QUEUED


def test_workers_retrying_at_the_same_moment_send_each_queued_message_once(home):
    import threading

    port = free_port()
    settings = configure(home, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n')
    engine = appdb.open_db(settings)
    queued = [mail.send(settings, engine, "anna@example.org", f"Queued {n}", text="body") for n in range(5)]
    assert {mail.message(engine, m).status for m in queued} == {mail.QUEUED}  # the server was down
    server = SmtpServer("127.0.0.1", port)
    ctl = Controller(_Collect(server), hostname="127.0.0.1", port=port)
    ctl.start()
    start = threading.Barrier(4)
    # when they are all due, and before a worker's claim on one (5 minutes from the real now) runs out
    later = max(mail.message(engine, m).next_attempt_at for m in queued) + timedelta(seconds=1)

    def worker() -> None:
        start.wait()
        mail.retry_due(settings, engine, now=later)

    workers = [threading.Thread(target=worker) for _ in range(4)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
    finally:
        ctl.stop()
    assert sorted(m.message["Subject"] for m in server.messages) == [f"Queued {n}" for n in range(5)]
    assert {mail.message(engine, m).status for m in queued} == {mail.SENT}


@pytest.mark.parametrize(
    ("to", "problem"),
    [(["not-an-address"], "to"), ([], "to"), (["anna@example.org"], None)],
)
def test_bad_messages_are_refused_and_not_logged(settings, to, problem):
    engine = appdb.open_db(settings)
    if problem is None:
        with pytest.raises(mail.MailError, match="body"):
            mail.send(settings, engine, to, "No body")
    else:
        with pytest.raises(mail.MailError, match=problem):
            mail.send(settings, engine, to, "Subject", text="x")
    assert mail.messages(engine) == []
