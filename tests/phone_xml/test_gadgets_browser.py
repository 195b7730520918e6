"""The three gadgets in headless Chromium at 320 and 1024 px, against a live phone service process:
log in (the Jabber hint fills in the user name), only one's own calls, the chart, the budget, lock and
unlock; a POST without the form's token is refused; nothing is loaded from anywhere else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

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
WAIT_MS = 30_000

pytestmark = pytest.mark.browser


@pytest.fixture
def live(gadget_home, phone_service_factory):
    """`python -m phone_xml.server` over the gadget home on a free loopback port."""
    return phone_service_factory(gadget_home.home)


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def fits(page, width: int) -> bool:
    """No sideways scrolling: the page is no wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [320, 1024])
def test_each_gadget_logs_in_shows_only_my_data_and_locks_and_unlocks(live, browser, width):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    hosts: set[str] = set()
    problems: list[str] = []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    # Jabber opens the tab with ?user=${UserID}: the form is filled in, nothing else is trusted
    page.goto(f"{live.url}/gadgets/calls?user=giulia.rossi")
    expect(page.locator("#username")).to_have_value("giulia.rossi")
    page.fill("#password", "demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/gadgets/calls")

    # Call Analytics: the chart, my calls (masked), not a colleague's
    expect(page.get_by_test_id("who")).to_have_text("Giulia Rossi")
    page.locator("#chart .main-svg").first.wait_for()
    expect(page.locator("#chart-summary")).to_contain_text("outgoing call")
    page.select_option("#chart-period", "week")
    expect(page.locator("#chart .xtick").first).to_be_visible()
    calls = page.get_by_test_id("calls")
    expect(calls).to_contain_text("00212345***")
    expect(calls).to_contain_text("0298765***")
    html = page.content()
    assert "00212345678" not in html
    assert "00287654" not in html  # Marco's call
    assert "00442071234" not in html  # James's call
    page.locator("[data-filter=missed]").click()
    expect(page.get_by_test_id("calls")).to_contain_text("3471234***")
    expect(page.get_by_test_id("calls")).not_to_contain_text("00212345***")
    assert fits(page, width)
    page.screenshot(path=ARTIFACTS / f"gadget_calls_{width}.png", full_page=True)

    # Budget: spent so far, credit left as a bar, the lock warning, costed calls
    page.get_by_role("link", name="Budget").click()
    page.wait_for_url("**/gadgets/budget")
    expect(page.get_by_test_id("spent")).to_have_text("€4.50")
    expect(page.get_by_test_id("remaining")).to_have_text("€5.50")
    assert page.locator("progress").get_attribute("value") == "55"
    expect(page.get_by_test_id("warning")).to_contain_text("your phone is locked")
    expect(page.get_by_test_id("costed-calls")).to_contain_text("00390611122***")
    expect(page.get_by_test_id("costed-calls")).not_to_contain_text("0044207")
    assert fits(page, width)
    page.screenshot(path=ARTIFACTS / f"gadget_budget_{width}.png", full_page=True)

    # Phone Lock: one button, the state follows
    page.get_by_role("link", name="Phone Lock").click()
    page.wait_for_url("**/gadgets/lock")
    state = page.get_by_test_id("state")
    expect(state).to_have_attribute("data-locked", "false")
    page.get_by_test_id("toggle").click()
    expect(state).to_have_attribute("data-locked", "true")
    expect(page.get_by_test_id("toggle")).to_have_text("Unlock phone")
    assert fits(page, width)
    page.screenshot(path=ARTIFACTS / f"gadget_lock_{width}.png", full_page=True)

    # a POST without the form's token (as another site's form would send it) is refused
    forged = context.request.post(f"{live.url}/gadgets/lock", form={"action": "unlock"})
    assert forged.status == 403
    page.reload()
    expect(state).to_have_attribute("data-locked", "true")

    page.get_by_test_id("toggle").click()
    expect(state).to_have_attribute("data-locked", "false")
    expect(page.get_by_test_id("toggle")).to_have_text("Lock phone")

    # log out: the gadgets ask for the password again
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#password")).to_be_visible()
    page.goto(f"{live.url}/gadgets/budget")
    expect(page.locator("#password")).to_be_visible()

    assert hosts == {urlsplit(live.url).netloc}  # no CDN, no web fonts, nothing from elsewhere
    assert problems == []  # no script errors (the Content-Security-Policy lets Plotly run)
    context.close()


def test_arabic_gadget_runs_right_to_left(live, browser):
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(f"{live.url}/gadgets/lock?user=layla.haddad")
    page.fill("#password", "demo")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/gadgets/lock")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("toggle")).to_have_text("قفل الهاتف")
    page.screenshot(path=ARTIFACTS / "gadget_lock_arabic.png", full_page=True)
    context.close()
