"""End to end in headless Chromium: log in, Home, a report with a filter, Excel and PDF, Arabic right to left."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pypdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WAIT_MS = 60_000

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def portal(ravello_home, tmp_path_factory):
    """`streamlit run` of the portal on a free loopback port, over the Ravello data home."""
    home, _now = ravello_home
    port = free_port()
    env = dict(os.environ, RINGLEDGER_HOME=str(home))
    env.pop("RINGLEDGER_CONFIG", None)
    log = tmp_path_factory.mktemp("portal") / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboards" / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the portal stopped at start-up:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def forget_choices(ravello):
    """Put back the language people choose in the browser (the data home is shared with other tests)."""
    yield
    from warehouse import appdb
    from warehouse.preferences import set_preferences

    set_preferences(appdb.open_db(ravello), "giulia.rossi", language="")


@pytest.fixture
def page(portal, forget_choices):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(portal, wait_until="domcontentloaded")
        yield tab
        browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=WAIT_MS)


def log_in(page, user: str, password: str = "demo") -> None:
    page.get_by_role("textbox", name="User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Last calls").wait_for()
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit select box by its label."""
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()


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
    direction = page.locator('[data-testid="stMain"]').evaluate("e => getComputedStyle(e).direction")
    page.screenshot(path=ARTIFACTS / "arabic.png", full_page=True)
    assert direction == "rtl"
    page.get_by_role("link", name="الرئيسية").click()
    page.get_by_role("heading", name="آخر المكالمات").wait_for()
    settle(page)
    page.screenshot(path=ARTIFACTS / "home_arabic.png", full_page=True)
