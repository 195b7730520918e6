"""`ringledger mail test|retry|log`: check the mail settings, send failed mail again, show the send log."""

from __future__ import annotations

from warehouse import appdb, mail
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("mail", help="outgoing mail")
    actions = p.add_subparsers(dest="mail_command", metavar="ACTION")
    actions.required = True
    test = actions.add_parser("test", help="send a test message with the [smtp] settings")
    test.add_argument("to", nargs="+", help="recipient address(es)")
    test.set_defaults(func=run_test)
    actions.add_parser("retry", help="send again the failed messages that are due").set_defaults(func=run_retry)
    log = actions.add_parser("log", help="the latest messages of the send log")
    log.add_argument("--limit", type=int, default=20)
    log.set_defaults(func=run_log)


def run_test(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    row_id = mail.send(
        settings,
        engine,
        args.to,
        "Ringledger test message",
        text="This message shows that Ringledger can send mail with its current settings.\n",
        category="test",
    )
    record = mail.message(engine, row_id)
    assert record is not None
    where = record.path if record.transport == "outbox" else f"{settings.smtp.host}:{settings.smtp.port}"
    print(
        f"{record.status}: {row_id} via {record.transport} ({where})"
        + (f": {record.last_error}" if record.last_error else "")
    )
    return 0 if record.status == mail.SENT else 1


def run_retry(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    tried = mail.retry_due(settings, engine)
    print(f"{len(tried)} message(s) retried")
    return 0


def run_log(args) -> int:
    engine = appdb.open_db(load_settings())
    for m in mail.messages(engine, limit=args.limit):
        print(
            f"{m.created_at:%Y-%m-%d %H:%M}  {m.status:<6}  {m.attempts}x  {', '.join(m.recipients)}  {m.subject}"
            + (f"  [{m.last_error}]" if m.last_error and m.status != mail.SENT else "")
        )
    return 0
