"""Reports by mail (R5, R6): a report result as an Excel or PDF attachment with a subject and a message.

    send_result(settings, engine, result, ["ann@example.org"], "xlsx", subject, message)

The attachment is the same file the portal's download gives (`export()`), made from a result that
is already scoped and masked for the person it was run for: the sender for "send now", the owner for
a scheduled report, whoever receives it. `[[FILTER]]` in the subject or message becomes the report's
options in words (`describe()`), in the result's language.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from warehouse import mail
from warehouse.i18n import N_
from warehouse.reports.engine import ReportResult
from warehouse.reports.export import MEDIA_TYPES, export, file_name

FILTER_PLACEHOLDER = "[[FILTER]]"
MAIL_FORMATS: dict[str, str] = {"xlsx": N_("Excel"), "pdf": N_("PDF")}
DEFAULT_MESSAGE = N_("Please find attached the report “{title}”.")


def expand(text: str, result: ReportResult) -> str:
    """The text with [[FILTER]] replaced by the report's options in words."""
    return text.replace(FILTER_PLACEHOLDER, result.description)


def compose(result: ReportResult, subject: str, message: str) -> tuple[str, str, str]:
    """Subject, HTML and plain text of a report mail (placeholders expanded, in the result's language)."""
    tr = result.tr
    _ = tr.gettext
    subject = " ".join(expand(subject.strip() or result.title, result).split())
    body = expand(message.strip() or _(DEFAULT_MESSAGE).format(title=result.title), result)
    rows = tr.ngettext("{n} row", "{n} rows", len(result.rows)).format(n=tr.number(len(result.rows)))
    generated = tr.datetime(result.generated_at, result.zone, "medium")
    facts = [
        (_("Report"), result.title),
        (_("Options"), result.description),
        (_("Rows"), rows + (" " + _("(cut at the maximum)") if result.truncated else "")),
        (_("Generated"), generated),
    ]
    text = body.rstrip() + "\n\n" + "\n".join(f"{k}: {v}" for k, v in facts) + "\n"
    esc = html_lib.escape
    direction = ' dir="rtl"' if tr.rtl else ""
    paragraphs = "".join(
        "<p>" + "<br>".join(esc(line) for line in block.splitlines()) + "</p>"
        for block in body.strip().split("\n\n")
        if block.strip()
    )
    table = "".join(
        f'<tr><th align="left" style="padding-right:12px">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in facts
    )
    html = (
        f'<html><body{direction} style="font-family:sans-serif">{paragraphs}'
        f'<table style="border-top:2px solid #0f766e;margin-top:12px">{table}</table></body></html>'
    )
    return subject, html, text


def attachment(result: ReportResult, fmt: str) -> mail.Attachment:
    """The report as the file the portal's download gives (Excel or PDF)."""
    if fmt not in MAIL_FORMATS:
        raise ValueError(f"format {fmt!r}: a report is mailed as {' or '.join(MAIL_FORMATS)}")
    return mail.Attachment(file_name(result, fmt), export(result, fmt), MEDIA_TYPES[fmt])


def send_result(
    settings,
    engine: Engine,
    result: ReportResult,
    recipients: Sequence[str] | str,
    fmt: str,
    subject: str = "",
    message: str = "",
    *,
    category: str = "report",
    reply_to: str | None = None,
) -> str:
    """Mail a report result to several recipients as Excel or PDF; returns the message's id in the send log.

    Raises MailError for recipients that are not mail addresses (nothing is sent then).
    """
    to = mail.parse_addresses(recipients)
    subject, html, text = compose(result, subject, message)
    return mail.send(
        settings,
        engine,
        to,
        subject,
        html=html,
        text=text,
        attachments=[attachment(result, fmt)],
        category=category,
        reply_to=reply_to,
    )
