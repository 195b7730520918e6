"""The mail of an alarm that tripped: HTML and plain text listing what tripped it, and an optional Excel file.

Everything is in the owner's language and time zone; numbers are already masked for the owner's role
(see `warehouse.alarms.checks`). The body lists at most MAIL_ROWS rows; the Excel attachment has
every row the alarm found.
"""

from __future__ import annotations

import html as html_lib
from datetime import datetime

from warehouse import mail
from warehouse.alarms.checks import AlarmType, Finding
from warehouse.i18n import translator
from warehouse.reports.engine import ReportResult, format_value
from warehouse.reports.export import MEDIA_TYPES, to_xlsx
from warehouse.reports.filters import Filters, Period

MAIL_ROWS = 100


def as_result(
    finding: Finding,
    kind: AlarmType,
    *,
    language: str,
    zone: str,
    now: datetime,
    currency: str,
    company: str,
    owner: str,
) -> ReportResult:
    """The finding as a report result (for the Excel file and the tables)."""
    tr = translator(language)
    return ReportResult(
        name=f"alarm-{kind.key}",
        title=tr.gettext(kind.title),
        question=finding.summary,
        kind="list",
        columns=list(finding.columns),
        rows=list(finding.rows),
        filters=Filters(period="all"),
        description="; ".join(finding.details),
        zone=zone,
        language=tr.language,
        currency=currency,
        generated_at=now,
        period=Period(None, None, None, None),
        truncated=finding.truncated,
        company=company,
        user_id=owner,
    )


def compose(
    finding: Finding,
    kind: AlarmType,
    *,
    subject: str,
    message: str,
    description: str,
    language: str,
    zone: str,
    now: datetime,
    currency: str,
) -> tuple[str, str, str]:
    """Subject, HTML and plain text of an alarm mail."""
    tr = translator(language)
    _ = tr.gettext
    title = _(kind.title)
    subject = " ".join((subject.strip() or f"{title}: {finding.summary}").split())
    intro = [line for line in (message.strip(), description.strip()) if line]
    when = _("Checked {when}").format(when=tr.datetime(now, zone, "medium"))
    shown = finding.rows[:MAIL_ROWS]
    cells = [
        [format_value(v, c.kind, tr, currency) for v, c in zip(row, finding.columns, strict=True)] for row in shown
    ]
    more = len(finding.rows) - len(shown)
    more_line = (
        tr.ngettext("… and {n} more row in the attachment", "… and {n} more rows in the attachment", more).format(
            n=tr.number(more)
        )
        if more > 0
        else ""
    )
    # plain text: aligned columns
    heads = [c.label for c in finding.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    table = [" | ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    table.append("-+-".join("-" * w for w in widths))
    table += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    text = "\n\n".join(
        [*intro, f"{title}: {finding.summary}", *finding.details, when]
        + (["\n".join(table)] if cells else [])
        + ([more_line] if more_line else [])
    )
    esc = html_lib.escape
    direction = ' dir="rtl"' if tr.rtl else ""
    head_html = "".join(
        f'<th align="left" style="background:#0f766e;color:#fff;padding:4px 8px">{esc(h)}</th>' for h in heads
    )
    body_html = "".join(
        "<tr>"
        + "".join(
            f'<td style="padding:3px 8px;border-bottom:1px solid #e5e7eb{";background:#f8fafc" if i % 2 else ""}">'
            f"{esc(v)}</td>"
            for v in r
        )
        + "</tr>"
        for i, r in enumerate(cells)
    )
    html = (
        f'<html><body{direction} style="font-family:sans-serif">'
        + "".join(f"<p>{esc(line)}</p>" for line in intro)
        + f'<h2 style="color:#0f766e">{esc(title)}</h2>'
        + f"<p><strong>{esc(finding.summary)}</strong></p>"
        + "".join(f"<p>{esc(d)}</p>" for d in finding.details)
        + (f'<table style="border-collapse:collapse"><tr>{head_html}</tr>{body_html}</table>' if cells else "")
        + (f"<p>{esc(more_line)}</p>" if more_line else "")
        + f'<p style="color:#6b7280">{esc(when)}</p></body></html>'
    )
    return subject, html, text + "\n"


def workbook(result: ReportResult) -> mail.Attachment:
    """The finding as an Excel file."""
    return mail.Attachment(
        f"{result.name}-{result.generated_at:%Y-%m-%d-%H%M}.xlsx", to_xlsx(result), MEDIA_TYPES["xlsx"]
    )
