"""Outgoing mail: one `send()` for every feature, a send log in the app database, retries with backoff.

    message_id = mail.send(settings, engine, to=["ann@example.org"], subject="Budget alert",
                           html="<p>...</p>", text="...", attachments=[Attachment("r.xlsx", data, XLSX)])

Where mail goes is set by the `[smtp]` section of the configuration:
- a `host` sends over SMTP (`security` "starttls", "tls" or "none"; `username` with the password taken from
  the environment variable named by `password_env`);
- no host (the embedded default) delivers into the outbox folder under the data home, one `.eml` file per
  message, written atomically, for administrators to browse.

Every message is written to the send log (`mail_message`) before it is sent, and its bytes are kept in a
spool file until the server has accepted them, so a failed send loses nothing: `retry_due()` (run by the
pipelines) sends it again after base * 2^(attempt-1) seconds, up to `max_attempts` times, and the log
shows each message's status, attempts and last error.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import re
import smtplib
import ssl
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, metadata, utcnow
from warehouse.lake import write_atomic

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
CSV = "text/csv"

QUEUED = "queued"  # waiting for its first or next attempt
SENT = "sent"  # accepted by the SMTP server, or written to the outbox
FAILED = "failed"  # gave up after max_attempts; `requeue()` tries again

# A sender claims a queued message for this long, so two processes never send it twice.
_CLAIM = timedelta(minutes=5)

mail_message = sa.Table(
    "mail_message",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(255), nullable=False),  # the Message-ID header
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("category", sa.String(32), nullable=False, server_default=""),
    sa.Column("sender", sa.String(255), nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # comma-separated addresses
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("transport", sa.String(8), nullable=False),  # smtp | outbox
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("path", sa.String(1024), nullable=False, server_default=""),  # spool file, or the outbox file
    sa.Index("ix_mail_message_due", "status", "next_attempt_at"),
    sa.Index("ix_mail_message_created", "created_at"),
)


class MailError(ValueError):
    """A message cannot be built: bad address, no body, bad attachment; the text says which."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message: its name, bytes and MIME type (such as mail.XLSX)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class MailRecord:
    """One row of the send log."""

    id: str
    message_id: str
    created_at: datetime
    category: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    transport: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    size: int
    path: str


# --- building --------------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    """The readable text of an HTML body, for the plain-text part when the caller gives none."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, blocks on their own lines."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def text_to_html(text: str) -> str:
    """A minimal HTML body showing plain text as it is (escaped, lines kept)."""
    return f'<html><body><pre style="font-family: sans-serif">{html_lib.escape(text)}</pre></body></html>'


def _addresses(values: Iterable[str] | str, what: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for name, addr in getaddresses(list(values)):
        if not addr or "@" not in addr or addr.startswith("@") or addr.endswith("@") or any(c in addr for c in " <>,;"):
            raise MailError(f"{what}: {formataddr((name, addr)) or '(empty)'!r} is not a mail address")
        out.append(formataddr((name, addr)) if name else addr)
    return out


# A recipient typed into a form: local part and a domain of dot-separated labels (at least two).
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)


def parse_addresses(text: str | Iterable[str], what: str = "recipients") -> list[str]:
    """Mail addresses from a list or a text (commas, semicolons, spaces or lines between them), checked.

    Raises MailError naming every address that is not one; duplicates are dropped, order is kept.
    """
    items = [text] if isinstance(text, str) else list(text)
    found: list[str] = []
    bad: list[str] = []
    seen: set[str] = set()
    for item in items:
        for piece in re.split(r"[,;\n]+", item or ""):
            piece = piece.strip()
            if not piece:
                continue
            # "Ann Berg <ann@example.org>" keeps its name; bare addresses may be separated by spaces
            named = [parseaddr(piece)] if "<" in piece else [("", p) for p in piece.split()]
            for name, addr in named:
                if _ADDRESS.fullmatch(addr) and len(addr) <= 254:
                    if addr.lower() not in seen:
                        seen.add(addr.lower())
                        found.append(formataddr((name, addr)) if name else addr)
                else:
                    bad.append(piece if name or not addr else addr)
    if bad:
        raise MailError(f"{what}: not a mail address: {', '.join(bad)}")
    if not found:
        raise MailError(f"{what}: give at least one mail address")
    return found


def build_message(
    settings,
    to: Sequence[str] | str,
    subject: str,
    html: str | None = None,
    text: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    cc: Sequence[str] = (),
    reply_to: str | None = None,
) -> EmailMessage:
    """The MIME message: a plain-text part, an HTML alternative when given, then the attachments."""
    recipients = _addresses(to, "to")
    copies = _addresses(cc, "cc") if cc else []
    if not recipients:
        raise MailError("to: a message needs at least one recipient")
    if html is None and text is None:
        raise MailError("a message needs a body (html, text or both)")
    if "\n" in subject or "\r" in subject:
        raise MailError("subject: must be one line")
    sender = _addresses(settings.smtp.sender, "[smtp] sender")[0]
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    if copies:
        msg["Cc"] = ", ".join(copies)
    if reply_to:
        msg["Reply-To"] = _addresses(reply_to, "reply_to")[0]
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "ringledger.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text if text is not None else html_to_text(html or ""), subtype="plain", charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    for att in attachments:
        if not att.filename or "/" in att.filename or "\\" in att.filename:
            raise MailError(f"attachment name {att.filename!r} must be a plain file name")
        maintype, _, subtype = att.mime_type.partition("/")
        if not maintype or not subtype:
            raise MailError(f"attachment {att.filename}: MIME type {att.mime_type!r} must look like type/subtype")
        msg.add_attachment(bytes(att.content), maintype=maintype, subtype=subtype, filename=att.filename)
    return msg


# --- sending ---------------------------------------------------------------------------------


def _backoff(settings, attempts: int) -> timedelta:
    seconds = settings.smtp.retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.smtp.retry_max_seconds))


def _tls_context(settings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=settings.smtp.ca_file or None)
    if not settings.smtp.verify_tls:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def deliver_smtp(settings, data: bytes, sender: str, recipients: Sequence[str]) -> None:
    """Hand one message to the configured SMTP server; raises on any refusal or connection problem."""
    cfg = settings.smtp
    client: smtplib.SMTP
    if cfg.security == "tls":
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=_tls_context(settings))
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    with client:
        client.ehlo()
        if cfg.security == "starttls":
            client.starttls(context=_tls_context(settings))
            client.ehlo()
        if cfg.username:
            client.login(cfg.username, cfg.password)
        refused = client.sendmail(sender, list(recipients), data)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    sender = parseaddr(str(msg["From"]))[1]
    rcpts = [a for _, a in getaddresses([str(v) for v in (msg.get_all("To") or []) + (msg.get_all("Cc") or [])])]
    return sender, rcpts


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{type(exc).__name__}: {exc.smtp_code} {detail}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + ", ".join(f"{a} ({c} {m!r})" for a, (c, m) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}"


def send(
    settings,
    engine: Engine,
    to: Sequence[str] | str,
    subject: str,
    html: str | None = None,
    text: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    category: str = "",
) -> str:
    """Send a message now (or queue it for retry if the server fails); returns its id in the send log.

    Raises MailError only for a message that cannot be built (bad address, no body); a server that is
    down or refuses is recorded on the message and retried later by `retry_due()`.
    """
    msg = build_message(settings, to, subject, html, text, attachments, cc=cc, reply_to=reply_to)
    data = msg.as_bytes(policy=policy.SMTP)
    sender, rcpts = _envelope(msg)
    row_id = uuid.uuid4().hex
    now = utcnow()
    outbox = not settings.smtp.host
    if outbox:
        path = settings.outbox_dir / f"{now:%Y%m%d-%H%M%S}-{row_id}.eml"
    else:
        path = settings.mail_spool_dir / f"{row_id}.eml"
    write_atomic(path, data)
    values = {
        "id": row_id,
        "message_id": str(msg["Message-ID"]),
        "created_at": now,
        "category": category,
        "sender": sender,
        "recipients": ", ".join(rcpts),
        "subject": subject,
        "transport": "outbox" if outbox else "smtp",
        "status": SENT if outbox else QUEUED,
        "attempts": 1 if outbox else 0,
        "next_attempt_at": None if outbox else now + _CLAIM,
        "sent_at": now if outbox else None,
        "size": len(data),
        "path": str(path),
    }
    with engine.begin() as conn:
        conn.execute(mail_message.insert().values(**values))
    if not outbox:
        _attempt(settings, engine, row_id, path, sender, rcpts, attempts=0)
    return row_id


def _attempt(settings, engine: Engine, row_id: str, path: Path, sender: str, rcpts: list[str], attempts: int) -> bool:
    """One delivery attempt of a claimed message; records the outcome. True when sent."""
    error: str | None = None
    try:
        deliver_smtp(settings, path.read_bytes(), sender, rcpts)
    except FileNotFoundError:
        error = f"the spooled message {path} is missing"
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        error = _describe(exc)
    now = utcnow()
    attempts += 1
    if error is None:
        values = {"status": SENT, "attempts": attempts, "sent_at": now, "next_attempt_at": None, "last_error": None}
    elif attempts >= settings.smtp.max_attempts:
        values = {"status": FAILED, "attempts": attempts, "next_attempt_at": None, "last_error": error}
    else:
        values = {"attempts": attempts, "next_attempt_at": now + _backoff(settings, attempts), "last_error": error}
    with engine.begin() as conn:
        conn.execute(mail_message.update().where(mail_message.c.id == row_id).values(**values))
    if error is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return error is None


def retry_due(settings, engine: Engine, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Send again every queued message whose next attempt is due; returns the ids that were tried."""
    now = now or utcnow()
    mm = mail_message
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(mm.c.id, mm.c.path, mm.c.sender, mm.c.recipients, mm.c.attempts, mm.c.next_attempt_at)
            .where(mm.c.status == QUEUED, mm.c.transport == "smtp", mm.c.next_attempt_at <= now)
            .order_by(mm.c.next_attempt_at)
            .limit(limit)
        ).all()
    tried = []
    for row in rows:
        with engine.begin() as conn:
            claimed = conn.execute(
                mm.update()
                .where(mm.c.id == row.id, mm.c.status == QUEUED, mm.c.next_attempt_at == row.next_attempt_at)
                .values(next_attempt_at=utcnow() + _CLAIM)
            ).rowcount
        if not claimed:
            continue  # another process is sending it
        rcpts = [r.strip() for r in row.recipients.split(",") if r.strip()]
        _attempt(settings, engine, row.id, Path(row.path), row.sender, rcpts, row.attempts)
        tried.append(row.id)
    return tried


def due_count(engine: Engine, now: datetime | None = None) -> int:
    """How many queued messages are due for an attempt now (cheap; for sensors)."""
    now = now or utcnow()
    mm = mail_message
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(mm)
                .where(mm.c.status == QUEUED, mm.c.transport == "smtp", mm.c.next_attempt_at <= now)
            ).scalar()
            or 0
        )


def requeue(engine: Engine, row_id: str) -> bool:
    """Give a failed message a fresh series of attempts (after the mail settings were fixed)."""
    with engine.begin() as conn:
        done = conn.execute(
            mail_message.update()
            .where(mail_message.c.id == row_id, mail_message.c.status == FAILED)
            .values(status=QUEUED, attempts=0, next_attempt_at=utcnow())
        ).rowcount
    return bool(done)


def retry_now(settings, engine: Engine, row_id: str) -> MailRecord | None:
    """Send a waiting or failed message again at once (an administrator's "retry now"); its record after."""
    mm = mail_message
    record = message(engine, row_id)
    if record is None or record.transport != "smtp" or record.status == SENT:
        return record
    if record.status == FAILED:
        requeue(engine, row_id)
    else:
        with engine.begin() as conn:
            conn.execute(
                mm.update()
                .where(mm.c.id == row_id, mm.c.status == QUEUED, mm.c.next_attempt_at == record.next_attempt_at)
                .values(next_attempt_at=utcnow())
            )
    fresh = message(engine, row_id)
    if fresh is None or fresh.status != QUEUED or fresh.next_attempt_at is None:
        return fresh
    with engine.begin() as conn:
        claimed = conn.execute(
            mm.update()
            .where(mm.c.id == row_id, mm.c.status == QUEUED, mm.c.next_attempt_at == fresh.next_attempt_at)
            .values(next_attempt_at=utcnow() + _CLAIM)
        ).rowcount
    if claimed:
        _attempt(settings, engine, row_id, Path(fresh.path), fresh.sender, list(fresh.recipients), fresh.attempts)
    return message(engine, row_id)


def _record(row) -> MailRecord:
    return MailRecord(
        id=row.id,
        message_id=row.message_id,
        created_at=row.created_at,
        category=row.category,
        sender=row.sender,
        recipients=tuple(r.strip() for r in row.recipients.split(",") if r.strip()),
        subject=row.subject,
        transport=row.transport,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        size=row.size,
        path=row.path,
    )


def messages(
    engine: Engine, status: str | None = None, category: str | None = None, limit: int = 200
) -> list[MailRecord]:
    """The send log, newest first (optionally only one status or category)."""
    q = sa.select(mail_message).order_by(mail_message.c.created_at.desc()).limit(limit)
    if status:
        q = q.where(mail_message.c.status == status)
    if category:
        q = q.where(mail_message.c.category == category)
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(q).all()]


def message(engine: Engine, row_id: str) -> MailRecord | None:
    """One message of the send log by its id."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(mail_message).where(mail_message.c.id == row_id)).first()
    return _record(row) if row else None


def read_eml(path: Path | str) -> EmailMessage:
    """Parse a stored .eml file (outbox or spool) for display."""
    from email import message_from_bytes

    parsed = message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def outbox_files(settings) -> list[Path]:
    """The messages delivered into the outbox folder, newest first."""
    folder = settings.outbox_dir
    if not folder.exists():
        return []
    return sorted((p for p in folder.glob("*.eml") if not p.name.startswith(".")), reverse=True)


# --- showing a stored message ----------------------------------------------------------------------

# What a message's HTML may keep when an administrator looks at it: text structure and tables, no
# styles, scripts, forms, frames, images or links that could load or run anything.
_SAFE_TAGS = frozenset(
    {
        *("p", "br", "b", "i", "u", "strong", "em", "small", "big", "pre", "code", "blockquote", "hr"),
        *("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "ul", "ol", "li", "dl", "dt", "dd"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "span", "div", "sub", "sup"),
    }
)
_SAFE_ATTRS = frozenset({"align", "colspan", "rowspan", "dir"})
_VOID = frozenset({"br", "hr"})
_DROP_WITH_CONTENT = frozenset({"script", "style", "head", "title", "iframe", "object", "embed", "noscript", "svg"})


class _SafeHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._drop = 0
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _DROP_WITH_CONTENT:
            self._drop += 1
            return
        if self._drop or tag not in _SAFE_TAGS:
            return
        kept = "".join(
            f' {name}="{html_lib.escape(value or "", quote=True)}"'
            for name, value in attrs
            if name in _SAFE_ATTRS and re.fullmatch(r"[A-Za-z0-9 _-]{0,20}", value or "")
        )
        self.out.append(f"<{tag}{kept}>")
        if tag not in _VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in _DROP_WITH_CONTENT:
            self._drop = max(0, self._drop - 1)

    def handle_endtag(self, tag):
        if tag in _DROP_WITH_CONTENT:
            self._drop = max(0, self._drop - 1)
            return
        if self._drop or tag not in _SAFE_TAGS or tag in _VOID or tag not in self._open:
            return
        while self._open:
            last = self._open.pop()
            self.out.append(f"</{last}>")
            if last == tag:
                break

    def handle_data(self, data):
        if not self._drop:
            self.out.append(html_lib.escape(data, quote=False))


def safe_html(html: str) -> str:
    """A message's HTML reduced to harmless structure (for showing it): no scripts, styles, links or images."""
    parser = _SafeHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.out) + "".join(f"</{t}>" for t in reversed(parser._open))


def bodies(msg: EmailMessage) -> tuple[str | None, str | None]:
    """The plain-text and HTML bodies of a parsed message (None when it has no such part)."""
    text_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    text = text_part.get_content() if text_part is not None else None
    html = html_part.get_content() if html_part is not None else None
    return text, html


def attachments_of(msg: EmailMessage) -> list[Attachment]:
    """The files attached to a parsed message."""
    out = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        out.append(Attachment(part.get_filename() or "attachment", bytes(data or b""), part.get_content_type()))
    return out
