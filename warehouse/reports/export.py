"""Exports of a report result: Excel (xlsxwriter), PDF (fpdf2) and CSV, in the result's language.

Excel keeps typed cells (numbers, dates, durations as time, money with the currency's format), a
header with the filter description and a native chart for groupings. PDF has the logo (the
administrator's, else Ringledger's own), title, description, a chart, the table and page numbers;
Arabic is shaped and laid out right to left with the bundled Noto fonts.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

from warehouse.reports.engine import ReportResult, format_value

FORMATS = ("xlsx", "pdf", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv",
}
# The palette of charts (screen, Excel, PDF): Ringledger's teal first.
PALETTE = ("#0f766e", "#f59e0b", "#6366f1", "#ef4444", "#10b981", "#8b5cf6", "#0ea5e9", "#f97316")


def export(result: ReportResult, fmt: str) -> bytes:
    """The result as a file of the given format: 'xlsx', 'pdf' or 'csv'."""
    if fmt == "xlsx":
        return to_xlsx(result)
    if fmt == "pdf":
        return to_pdf(result)
    if fmt == "csv":
        return to_csv(result)
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")


def file_name(result: ReportResult, fmt: str) -> str:
    """A download name such as 'cost_by_department-2026-11-27.xlsx'."""
    return f"{result.name}-{result.generated_at:%Y-%m-%d}.{fmt}"


# --- CSV -------------------------------------------------------------------------------------------


FORMULA_START = re.compile(r"^(?:[=@\t\r]|[+-](?![\d\s(]))")


def _neutral(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, @, or + - not starting a number) gets a leading quote."""
    return "'" + text if FORMULA_START.match(text) else text


def _plain(value, kind: str):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "percent":
        return f"{float(value):.4f}"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return _neutral(value) if isinstance(value, str) else str(value)


def to_csv(result: ReportResult) -> bytes:
    """Plain CSV: a header row of labels, values machine-readable (ISO times, seconds, '.' decimals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_neutral(c.label) for c in result.columns])
    for row in result.rows:
        writer.writerow([_plain(v, c.kind) for v, c in zip(row, result.columns, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


# --- Excel -----------------------------------------------------------------------------------------

_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF", "PLN": "zł", "JPY": "¥"}


def _money_format(currency: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(currency, currency)
    if not symbol:
        return "#,##0.00"
    return f'#,##0.00 "{symbol}"' if len(symbol) > 1 else f"{symbol}#,##0.00"


def to_xlsx(result: ReportResult) -> bytes:
    """An Excel workbook with the report's header, a typed table, totals and a chart for groupings."""
    import xlsxwriter

    tr = result.tr
    _ = tr.gettext
    buffer = io.BytesIO()
    # text that starts with '=' stays text: a name or number in a report never becomes a formula
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(_("Report")[:31])
    if tr.rtl:
        sheet.right_to_left()
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 16, "font_color": "#0f766e"}),
        "sub": book.add_format({"italic": True, "font_color": "#555555"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top", "font_color": "#333333"}),
        "head": book.add_format({"bold": True, "bg_color": "#0f766e", "font_color": "#ffffff", "border": 1}),
        "text": book.add_format({}),
        "int": book.add_format({"num_format": "#,##0"}),
        "decimal": book.add_format({"num_format": "#,##0.00"}),
        "money": book.add_format({"num_format": _money_format(result.currency)}),
        "duration": book.add_format({"num_format": "[h]:mm:ss"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "bool": book.add_format({"align": "center"}),
        "total": book.add_format({"bold": True, "top": 2}),
    }
    total_fmt = {
        k: book.add_format({"bold": True, "top": 2, "num_format": f})
        for k, f in (
            ("int", "#,##0"),
            ("money", _money_format(result.currency)),
            ("duration", "[h]:mm:ss"),
        )
    }
    ncols = max(len(result.columns), 1)
    sheet.write(0, 0, result.title, fmt["title"])
    sheet.write(1, 0, result.question, fmt["sub"])
    sheet.merge_range(2, 0, 2, max(ncols - 1, 5), result.description, fmt["wrap"])
    sheet.set_row(2, 15 * (1 + len(result.description) // 110))
    generated = tr.datetime(result.generated_at, result.zone, "medium")
    sheet.write(3, 0, _("Generated {when} for {who}").format(when=generated, who=result.user_id), fmt["sub"])
    if result.truncated:
        sheet.write(4, 0, _("Only the first {n} rows are shown.").format(n=tr.number(len(result.rows))), fmt["sub"])
    top = 6
    widths = [len(c.label) + 2 for c in result.columns]
    for j, column in enumerate(result.columns):
        sheet.write(top, j, column.label, fmt["head"])
    for i, row in enumerate(result.rows, start=top + 1):
        for j, (value, column) in enumerate(zip(row, result.columns, strict=True)):
            _write_cell(sheet, i, j, value, column.kind, fmt)
            widths[j] = max(widths[j], min(len(format_value(value, column.kind, tr, result.currency)) + 2, 50))
    last = top + len(result.rows)
    if result.totals and result.rows:
        sheet.write(last + 1, 0, _("Total"), fmt["total"])
        for j, column in enumerate(result.columns):
            if j == 0:
                continue
            if column.key in result.totals:
                _write_cell(sheet, last + 1, j, result.totals[column.key], column.kind, total_fmt)
            else:
                sheet.write_blank(last + 1, j, None, fmt["total"])
    for j, width in enumerate(widths):
        kind = result.columns[j].kind
        sheet.set_column(j, j, max(width, 19 if kind == "datetime" else 11 if kind == "date" else 8))
    if result.rows:
        sheet.autofilter(top, 0, last, ncols - 1)
        sheet.freeze_panes(top + 1, 0)
    _xlsx_chart(book, sheet, result, top, last)
    book.close()
    return buffer.getvalue()


def _write_cell(sheet, i: int, j: int, value, kind: str, fmt: dict) -> None:
    if value is None:
        sheet.write_blank(i, j, None)
        return
    if kind in ("int", "decimal", "money", "percent") and isinstance(value, int | float | Decimal):
        sheet.write_number(i, j, float(value), fmt.get(kind))
    elif kind == "duration" and isinstance(value, int | float | Decimal):
        # Excel keeps times as fractions of a day
        sheet.write_number(i, j, float(value) / 86400, fmt.get(kind))
    elif kind in ("datetime", "date") and isinstance(value, datetime | date):
        sheet.write_datetime(i, j, value, fmt.get(kind))
    elif kind == "bool" and isinstance(value, bool):
        sheet.write_boolean(i, j, value, fmt.get(kind))
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        sheet.write_number(i, j, float(value), fmt.get("decimal"))
    else:
        sheet.write_string(i, j, str(value))


def _xlsx_chart(book, sheet, result: ReportResult, top: int, last: int) -> None:
    measures = result.chart_measures()
    if not measures or not result.rows or not result.group_keys:
        return
    chart_kind = result.chart.kind if result.chart else "bar"
    rows = min(len(result.rows), result.chart.top if result.chart else 15)
    if chart_kind == "pie":
        chart = book.add_chart({"type": "pie"})
    elif chart_kind == "line":
        chart = book.add_chart({"type": "line"})
    elif chart_kind == "stacked":
        chart = book.add_chart({"type": "column", "subtype": "stacked"})
    else:
        chart = book.add_chart({"type": "column"})
    label_col = result.index(result.group_keys[0])
    for n, key in enumerate(measures):
        col = result.index(key)
        series: dict[str, object] = {
            "name": [sheet.name, top, col],
            "categories": [sheet.name, top + 1, label_col, top + rows, label_col],
            "values": [sheet.name, top + 1, col, top + rows, col],
        }
        if chart_kind == "pie":
            series["points"] = [{"fill": {"color": PALETTE[i % len(PALETTE)]}} for i in range(rows)]
        else:
            series["fill"] = {"color": PALETTE[n % len(PALETTE)]}
            series["line"] = {"color": PALETTE[n % len(PALETTE)]}
        chart.add_series(series)
    chart.set_title({"name": result.title})
    if chart_kind != "pie" and len(measures) == 1:
        chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 360})
    sheet.insert_chart(top, len(result.columns) + 1, chart)


# --- PDF -------------------------------------------------------------------------------------------


def _fonts(pdf) -> str:
    """Register the bundled Noto fonts (Latin, Greek, Cyrillic; Arabic as fallback); returns the family."""
    import fontpkg

    sans = fontpkg.path("Noto Sans")
    arabic = fontpkg.path("Noto Sans Arabic")
    for style, weight in (("", 400), ("B", 700)):
        pdf.add_font("NotoSans", style, sans, variations={"wght": weight, "wdth": 100})
        pdf.add_font("NotoSansArabic", style, arabic, variations={"wght": weight, "wdth": 100})
    pdf.set_fallback_fonts(["NotoSansArabic"], exact_match=False)
    return "NotoSans"


def _hex(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def logo_width(pdf, h: float) -> float:
    """The width (mm) of Ringledger's mark and name drawn `h` mm high."""
    pdf.set_font(style="B", size=h * 2.1)
    return h * 1.15 + pdf.get_string_width("Ringledger")


def draw_logo(pdf, x: float, y: float, h: float) -> float:
    """Ringledger's own mark and name, drawn as vectors; returns the width used (mm)."""
    teal = _hex(PALETTE[0])
    amber = _hex(PALETTE[1])
    r = h / 2
    pdf.set_line_width(h * 0.12)
    pdf.set_draw_color(*teal)
    pdf.circle(x=x + r, y=y + r, radius=r * 0.86, style="D")
    pdf.set_draw_color(*amber)
    pdf.circle(x=x + r, y=y + r, radius=r * 0.45, style="D")
    pdf.set_fill_color(*teal)
    pdf.circle(x=x + r, y=y + r, radius=r * 0.14, style="F")
    pdf.set_text_color(*teal)
    pdf.set_font(style="B", size=h * 2.1)
    pdf.set_xy(x + h * 1.15, y)
    width = pdf.get_string_width("Ringledger")
    pdf.cell(width, h, "Ringledger")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    return h * 1.15 + width


def to_pdf(result: ReportResult) -> bytes:
    """A PDF: logo, title, question, filter description, chart, table, totals and page numbers."""
    from fpdf import FPDF

    tr = result.tr
    _ = tr.gettext
    rtl = tr.rtl
    columns = list(result.columns)
    many = len(columns) > 7

    class ReportPdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(size=8)
            self.set_text_color(110, 110, 110)
            text = _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}")
            self.cell(0, 8, text, align="C")
            self.set_text_color(0, 0, 0)

    pdf = ReportPdf(orientation="L" if many else "P", unit="mm", format="A4")
    pdf.set_title(result.title)
    pdf.set_creator("Ringledger")
    pdf.set_author(result.company or "Ringledger")
    pdf.alias_nb_pages("{nb}")
    family = _fonts(pdf)
    pdf.set_font(family, size=10)
    pdf.set_auto_page_break(True, margin=16)
    if rtl:
        pdf.set_text_shaping(True, direction="rtl", script="arab", language="ar")
    else:
        pdf.set_text_shaping(True)
    pdf.add_page()
    align = "R" if rtl else "L"
    # header: logo on the leading side, company on the other
    logo_h = 10.0
    if result.logo is not None and result.logo.exists():
        lx = pdf.w - pdf.r_margin - 40 if rtl else pdf.l_margin
        pdf.image(str(result.logo), x=lx, y=pdf.t_margin, h=logo_h, keep_aspect_ratio=True, w=40)
    else:
        width = logo_width(pdf, logo_h)
        draw_logo(pdf, pdf.w - pdf.r_margin - width if rtl else pdf.l_margin, pdf.t_margin, logo_h)
    pdf.set_font(family, size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.cell(0, logo_h, result.company, align="L" if rtl else "R")
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(pdf.t_margin + logo_h + 4)
    pdf.set_font(family, "B", 16)
    pdf.set_text_color(*_hex(PALETTE[0]))
    pdf.multi_cell(0, 8, result.title, align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(family, size=10)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(0, 5, result.question, align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(family, size=8.5)
    pdf.multi_cell(0, 4.5, result.description, align=align, new_x="LMARGIN", new_y="NEXT")
    generated = tr.datetime(result.generated_at, result.zone, "medium")
    pdf.multi_cell(
        0,
        4.5,
        _("Generated {when} for {who}").format(when=generated, who=result.user_id),
        align=align,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if result.truncated:
        pdf.multi_cell(
            0,
            4.5,
            _("Only the first {n} rows are shown.").format(n=tr.number(len(result.rows))),
            align=align,
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    if not result.rows:
        pdf.set_font(family, size=11)
        pdf.multi_cell(0, 8, _("No calls match these options."), align=align, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    _pdf_chart(pdf, result, family)
    _pdf_table(pdf, result, family)
    return bytes(pdf.output())


def _pdf_chart(pdf, result: ReportResult, family: str) -> None:
    """A bar (or stacked bar / line) chart of the groups, drawn with vectors."""
    measures = result.chart_measures()
    if not measures or not result.group_keys:
        return
    chart = result.chart
    top_n = min(len(result.rows), chart.top if chart else 15, 40)
    rows = result.rows[:top_n]
    if chart is not None and chart.kind in ("line",) or result.kind == "trend":
        rows = result.rows[-top_n:] if len(result.rows) > top_n else result.rows
    idx = [result.index(m) for m in measures]

    def val(row, i) -> float:
        v = row[i]
        return float(v) if isinstance(v, int | float | Decimal) and not isinstance(v, bool) else 0.0

    stacked = chart is not None and chart.kind in ("stacked", "line") and len(measures) > 1
    totals = [sum(val(r, i) for i in idx) if stacked else val(r, idx[0]) for r in rows]
    peak = max(totals) if totals else 0
    if peak <= 0:
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    height = 62.0
    if pdf.get_y() + height + 14 > pdf.h - pdf.b_margin:
        pdf.add_page()
    x0, y0 = pdf.l_margin, pdf.get_y()
    label_h = 14.0
    plot_h = height - label_h
    n = len(rows)
    slot = width / n
    bar = slot * 0.7
    rtl = result.tr.rtl
    pdf.set_draw_color(200, 200, 200)
    pdf.line(x0, y0 + plot_h, x0 + width, y0 + plot_h)
    pdf.set_font(family, size=6.5)
    for k, row in enumerate(rows):
        pos = (n - 1 - k) if rtl else k
        x = x0 + pos * slot + (slot - bar) / 2
        base = y0 + plot_h
        series = idx if stacked else idx[:1]
        for s, i in enumerate(series):
            h = plot_h * val(row, i) / peak
            if h <= 0:
                continue
            pdf.set_fill_color(*_hex(PALETTE[s % len(PALETTE)]))
            pdf.rect(x, base - h, bar, h, style="F")
            base -= h
        label = result.group_label(row)
        pdf.set_text_color(60, 60, 60)
        if n <= 16:
            pdf.set_xy(x0 + pos * slot, y0 + plot_h + 1)
            pdf.multi_cell(slot, 3, label[:28], align="C", max_line_height=3)
    pdf.set_text_color(0, 0, 0)
    # legend: which colour is which measure, and the scale
    pdf.set_xy(x0, y0 + height - 3)
    legend = []
    for s, m in enumerate(measures if stacked else measures[:1]):
        legend.append((PALETTE[s % len(PALETTE)], next(c.label for c in result.columns if c.key == m)))
    x = x0
    for color, text in legend:
        pdf.set_fill_color(*_hex(color))
        pdf.rect(x, y0 + height - 1.5, 3, 3, style="F")
        pdf.set_xy(x + 4, y0 + height - 2)
        w = pdf.get_string_width(text) + 2
        pdf.cell(w, 4, text)
        x += w + 8
    kind = next(c.kind for c in result.columns if c.key == (measures[0]))
    peak_text = format_value(peak, "int" if kind == "int" else kind, result.tr, result.currency)
    pdf.set_xy(x0, y0 - 1)
    pdf.set_text_color(120, 120, 120)
    pdf.cell(width, 3, peak_text, align="L" if rtl else "R")
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(y0 + height + 4)


def _pdf_table(pdf, result: ReportResult, family: str) -> None:
    from fpdf.fonts import FontFace

    tr = result.tr
    rtl = tr.rtl
    columns = list(result.columns)
    order = list(range(len(columns)))
    if rtl:
        order.reverse()
    numeric = {"int", "decimal", "money", "duration", "percent"}
    weights = []
    for j in order:
        c = columns[j]
        sample = [len(format_value(r[j], c.kind, tr, result.currency)) for r in result.rows[:200]]
        weights.append(max([len(c.label) * 0.8, 6, *sample]))
    text_align = []
    for j in order:
        c = columns[j]
        text_align.append("RIGHT" if c.kind in numeric or rtl else "LEFT")
    pdf.set_font(family, size=7.5 if len(columns) > 7 else 8.5)
    pdf.set_fill_color(242, 247, 246)
    pdf.set_draw_color(200, 200, 200)
    head = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=_hex(PALETTE[0]))
    with pdf.table(
        col_widths=weights,
        text_align=text_align,
        headings_style=head,
        line_height=4.6,
        cell_fill_color=(242, 247, 246),
        cell_fill_mode="ROWS",
        borders_layout="HORIZONTAL_LINES",
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for j in order:
            heading.cell(columns[j].label)
        for r in result.rows:
            row = table.row()
            for j in order:
                row.cell(format_value(r[j], columns[j].kind, tr, result.currency))
        if result.totals:
            bold = FontFace(emphasis="BOLD")
            row = table.row()
            for k, j in enumerate(order):
                key = columns[j].key
                first = (k == len(order) - 1) if rtl else (k == 0)
                if first:
                    row.cell(tr.gettext("Total"), style=bold)
                elif key in result.totals:
                    row.cell(format_value(result.totals[key], columns[j].kind, tr, result.currency), style=bold)
                else:
                    row.cell("")
