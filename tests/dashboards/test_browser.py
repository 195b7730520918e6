"""End to end in headless Chromium: log in, Home, a report with a filter, Excel and PDF, Arabic right to left."""

from __future__ import annotations

import io

import openpyxl
import pypdf
import pytest

from tests.dashboards.browser import ARTIFACTS, WAIT_MS, choose, log_in, settle

pytestmark = pytest.mark.browser


def test_home_report_exports_and_arabic(page):
    from playwright.sync_api import expect

    log_in(page, "giulia.rossi")
    calls = page.locator('[data-testid="stDataFrame"]').first
    expect(calls).to_be_visible()
    # the table is drawn on a canvas; once focused it also renders a table for screen readers: read that
    calls.locator("canvas").first.focus()
    grid = calls.locator('table[role="grid"]')
    grid.wait_for(state="attached")
    text = grid.text_content() or ""
    page.screenshot(path=ARTIFACTS / "home.png", full_page=True)
    assert "00212345***" in text  # her own call, masked
    assert "00287654" not in text  # her colleague's call is not there
    assert "Giulia Rossi" in text

    page.get_by_role("link", name="Interactive reports").click()
    options = page.locator(".st-key-cat_opt_cost_by_department button")
    options.wait_for()
    settle(page)
    options.click()
    page.get_by_role("heading", name="Group cost by department").wait_for()
    settle(page)
    choose(page, "Period", "All time")
    page.get_by_text("External calls", exact=True).click()
    page.locator(".st-key-opt_execute button").click()
    page.get_by_text("Period: all time").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "cost_by_department.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel").click()
    xlsx = ARTIFACTS / "cost_by_department.xlsx"
    download.value.save_as(xlsx)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sheet["A1"].value == "Group cost by department"
    assert "External calls" in sheet["A3"].value
    assert [sheet["A8"].value, sheet["B8"].value] == ["Sales", 6]  # her six outside calls, her department

    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = ARTIFACTS / "cost_by_department.pdf"
    download.value.save_as(pdf)
    text = pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert "Group cost by department" in text
    assert "External calls" in text
    assert "Sales" in text
    assert "Page 1 of 1" in text

    choose(page, "Language", "العربية")
    page.get_by_role("heading", name="التكلفة مجمعة حسب القسم").wait_for()
    page.get_by_role("button", name="تنزيل PDF").wait_for()
    settle(page)
    # the page's style arrives with the rerun; wait for it rather than reading it once
    expect(page.locator('[data-testid="stMain"]')).to_have_css("direction", "rtl", timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "arabic.png", full_page=True)
    page.get_by_role("link", name="الرئيسية").click()
    page.get_by_role("heading", name="آخر المكالمات").wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "home_arabic.png", full_page=True)
