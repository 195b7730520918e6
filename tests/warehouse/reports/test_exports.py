"""Exports read back as a person would open them: Excel cells and chart, PDF text, Arabic, logo, CSV."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import openpyxl
import pypdf

from tests.ravello import CALLS
from warehouse import appdb
from warehouse.access import Principal, load_principal
from warehouse.reports import Filters, export, run_report
from warehouse.reports.preview import example_connection


def admin(settings, language="en") -> Principal:
    principal = load_principal(appdb.open_db(settings), "admin")
    import dataclasses

    return dataclasses.replace(principal, language=language)


def priced_result(settings, name="cost_by_department", language="en", **options):
    """A report over the example calls, which carry costs (the Ravello calls are not rated yet)."""
    filters = Filters(period="all", time_zone="UTC", **options)
    viewer = Principal("example", role="administrator", language=language, time_zone="UTC")
    return run_report(settings, viewer, name, filters, con=example_connection(), now=datetime(2026, 4, 1, tzinfo=UTC))


def test_excel_has_header_typed_cells_totals_and_a_chart(ravello):
    result = priced_result(ravello)
    data = export(result, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "Group cost by department"
    assert "Period: all time" in sheet["A3"].value
    header = [c.value for c in sheet[7]]
    assert header[:2] == ["Department", "Calls"]
    first = [c.value for c in sheet[8]]
    assert first[0] in {"Sales", "Finance", "Engineering", "Support", "Marketing"}
    assert isinstance(first[1], int)  # calls: a number, not text
    cost = sheet.cell(8, header.index("Cost") + 1)
    assert isinstance(cost.value, float)
    assert "€" in cost.number_format
    duration = sheet.cell(8, header.index("Duration") + 1)
    assert duration.number_format == "[h]:mm:ss"
    total_row = 8 + len(result.rows)
    assert sheet.cell(total_row, 1).value == "Total"
    assert sheet.cell(total_row, 2).value == sum(r["calls"] for r in result.records())
    assert any(n.startswith("xl/charts/chart") for n in zipfile.ZipFile(io.BytesIO(data)).namelist())


def test_excel_call_list_keeps_dates_as_dates(ravello):
    result = run_report(ravello, admin(ravello), "call_list", Filters(period="all"))
    sheet = openpyxl.load_workbook(io.BytesIO(export(result, "xlsx"))).active
    assert isinstance(sheet["A8"].value, datetime)
    assert sheet.max_row == 8 + len(result.rows)  # and a totals row
    assert sheet.cell(sheet.max_row, 1).value == "Total"


def test_pdf_has_title_description_table_and_page_numbers(ravello):
    result = run_report(ravello, admin(ravello), "cost_by_department", Filters(period="all", departments=["Sales"]))
    reader = pypdf.PdfReader(io.BytesIO(export(result, "pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Group cost by department" in text
    assert "Departments: Sales" in text
    assert "Sales" in text
    assert "Finance" not in text.replace("Departments: Sales", "")
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Ringledger" in text  # the default logo's name


def test_pdf_of_a_long_list_runs_over_pages(ravello):
    result = priced_result(ravello, "call_list", max_rows=400)
    reader = pypdf.PdfReader(io.BytesIO(export(result, "pdf")))
    assert len(reader.pages) > 3
    last = reader.pages[-1].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last


def test_pdf_in_arabic_uses_the_bundled_arabic_font(ravello):
    result = priced_result(ravello, language="ar")
    data = export(result, "pdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("NotoSansArabic" in f for f in fonts)
    text = reader.pages[0].extract_text()
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)  # Arabic letters in the page text


def test_pdf_uses_the_administrators_logo(ravello, tmp_path):
    import dataclasses

    logo = tmp_path / "logo.png"
    # a 2x2 red PNG, written by hand
    import struct
    import zlib

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    logo.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    settings = ravello.model_copy(update={"portal": ravello.portal.model_copy(update={"report_logo": str(logo)})})
    result = run_report(settings, admin(ravello), "cost_by_department", Filters(period="all"))
    assert result.logo == logo
    reader = pypdf.PdfReader(io.BytesIO(export(result, "pdf")))
    assert len(reader.pages[0].images) == 1
    default = run_report(ravello, admin(ravello), "cost_by_department", Filters(period="all"))
    assert len(pypdf.PdfReader(io.BytesIO(export(default, "pdf"))).pages[0].images) == 0  # drawn, not an image
    assert dataclasses.is_dataclass(result)


def test_csv_is_machine_readable(ravello):
    result = run_report(ravello, admin(ravello), "call_list", Filters(period="all", fields=["extension", "duration_s"]))
    lines = export(result, "csv").decode("utf-8-sig").splitlines()
    assert lines[0] == "Extension,Duration"
    assert len(lines) == 1 + len([c for c in CALLS]) + 1  # the internal call has a row per party
