"""End to end in headless Chromium, as an administrator runs the product: tariffs, data health, sites.

Each test has its own copy of the small demo data home and its own portal, so what one changes the
others never see.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.admin_home import (
    BROKEN_LINE,
    EMPLOYEE,
    UNKNOWN_EXTENSION,
    admin_home,  # noqa: F401
    admin_template,  # noqa: F401
)
from tests.dashboards.browser import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    WAIT_MS,
    click_for,
    log_in,
    log_out,
    open_page,
    serve_portal,
    settle,
)

pytestmark = pytest.mark.browser

BROKEN_DECK = "prefix,destination,rate\n39,Italy,0.0100\n3902,Milano,0.012\n39abc,Bad prefix,0.02\n44,UK,0.1.2\n"
# Everything priced again, at other rates than the demo carrier: the re-rating shows what changes.
GOOD_DECK = "prefix,destination,rate\n" + "\n".join(
    f"{prefix},{name},{rate}"
    for prefix, name, rate in (
        ("39", "Italy", "0.2500"),
        ("1", "North America", "0.1000"),
        ("2", "Africa", "0.9000"),
        ("3", "Europe", "0.3000"),
        ("4", "Europe", "0.3000"),
        ("5", "Latin America", "0.9000"),
        ("6", "Asia Pacific", "0.9000"),
        ("7", "Russia and Kazakhstan", "0.9000"),
        ("8", "East Asia", "0.9000"),
        ("9", "Asia", "0.9000"),
    )
)


@pytest.fixture
def tab(admin_home, tmp_path) -> Iterator:  # noqa: F811
    """A Chromium tab on a portal of its own, over this test's copy of the data home."""
    from playwright.sync_api import sync_playwright

    home, _facts = admin_home
    ARTIFACTS.mkdir(exist_ok=True)
    for url in serve_portal(home, tmp_path / "streamlit.log"):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            page.goto(url, wait_until="domcontentloaded")
            yield page
            browser.close()


def grid_text(page, index: int = 0) -> str:
    """The text of a table (drawn on a canvas; once focused it also renders a table for screen readers)."""
    frame = page.locator('[data-testid="stDataFrame"]').nth(index)
    frame.locator("canvas").first.focus()
    grid = frame.locator('table[role="grid"]')
    grid.wait_for(state="attached")
    return grid.text_content() or ""


def section(page, key: str, name: str, shows: str) -> None:
    """Pick a part of a page from its segmented control and wait until it shows this text."""
    page.locator(f".st-key-{key} button").filter(has_text=name).first.click()
    page.get_by_text(shows, exact=False).first.wait_for()
    settle(page)


def pick(page, label: str, option: str, typed: str | None = None) -> None:
    """Choose an option of the select box with this label (typing first narrows a long list).

    A rerun still under way may draw the box again and close its list: then it is opened again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wanted = page.get_by_role("option", name=option, exact=True)
    for _attempt in range(5):
        settle(page)
        page.get_by_label(label, exact=True).first.click()
        if typed:
            page.keyboard.type(typed)
        try:
            wanted.wait_for(timeout=5000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        break
    if typed:
        # the list narrowed to the option typed: Enter takes it even while a rerun redraws the list
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
    else:
        wanted.click()
    settle(page)


def test_a_broken_deck_shows_its_lines_a_good_one_installs_and_a_month_is_rerated(tab, tmp_path):
    from playwright.sync_api import expect

    broken, good = tmp_path / "carrier.csv", tmp_path / "it-carrier.csv"
    broken.write_text(BROKEN_DECK)
    good.write_text(GOOD_DECK)
    log_in(tab, "admin", "admin")
    open_page(tab, "Tariffs")
    section(tab, "tar_section", "Upload", "It is checked first; a file with problems is never installed.")

    tab.locator(".st-key-tar_file input[type='file']").set_input_files(broken)
    settle(tab)
    tab.locator(".st-key-tar_check button").click()
    tab.get_by_text("carrier.csv has problems; nothing was installed.").wait_for()
    settle(tab)
    problems = grid_text(tab)
    tab.screenshot(path=ARTIFACTS / "admin_tariff_problems.png", full_page=True)
    assert "'39abc' is not an E.164 prefix (digits)" in problems
    assert "'0.1.2' is not an amount" in problems
    assert "prefix" in problems

    tab.locator(".st-key-tar_file input[type='file']").set_input_files(good)
    tab.locator(".st-key-tar_file").get_by_text("it-carrier.csv").wait_for()
    settle(tab)
    replace = tab.get_by_label("Replace the installed plan of the same name")
    # a click landing while the upload's rerun draws the page again can be lost: click until it holds
    for _ in range(3):
        if replace.is_checked():
            break
        tab.get_by_text("Replace the installed plan of the same name").click()
        settle(tab)
    expect(replace).to_be_checked()
    click_for(tab.locator(".st-key-tar_check button"), tab.get_by_text("it-carrier.csv reads without problems"))
    settle(tab)
    tab.locator(".st-key-tar_install button").click()
    tab.get_by_text("Installed: it-carrier.").wait_for()
    settle(tab)

    # what last month cost per cost centre before (the re-rate page's default period)
    from dashboards.admin import last_month
    from warehouse import appdb, connect
    from warehouse.audit import query_audit
    from warehouse.config import load_settings
    from warehouse.i18n import translator
    from warehouse.rating import COST_CENTRE_SQL

    settings = load_settings()

    def by_centre() -> dict[str, Decimal]:
        rows = connect(settings).execute(COST_CENTRE_SQL, list(last_month())).fetchall()
        return {centre: Decimal(cost) for centre, _dep, _calls, cost, _unrated in rows}

    before = by_centre()
    section(tab, "tar_section", "Re-rate", "Re-rating builds the calls of these days again")
    tab.locator(".st-key-tar_rerate_go button").click()
    tab.get_by_text("Re-rated", exact=False).wait_for()
    settle(tab)
    table = grid_text(tab)
    tab.screenshot(path=ARTIFACTS / "admin_rerate.png", full_page=True)
    expect(tab.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    assert "CC-IT-" in table
    # only the calls through Milano are priced with the new deck: the other sites' cost centres keep their
    # cost, Milano's change (either way: the deck is dearer for plain calls, cheaper for premium ones)
    after = by_centre()
    assert {c: v for c, v in after.items() if not c.startswith("CC-IT-")} == {
        c: v for c, v in before.items() if not c.startswith("CC-IT-")
    }
    milano = sum(after[c] - before[c] for c in after if c.startswith("CC-IT-"))
    assert milano != 0
    # the total change the page shows is what was re-rated, and what the audit log keeps
    (entry,) = query_audit(appdb.open_db(settings), action="calls.reprocessed").entries
    assert Decimal(entry.detail_data["change"]) == milano
    figures = tab.locator(".st-key-tar_rerate_totals").text_content() or ""
    assert translator("en").money(milano, "EUR") in figures


def test_a_rejected_line_opens_in_full_and_an_unknown_extension_is_given_away(tab, admin_home):  # noqa: F811
    home, facts = admin_home
    archived = next((home / "archive").rglob(facts["broken_file"])).read_text().split("\n")[BROKEN_LINE - 1]
    log_in(tab, "admin", "admin")
    open_page(tab, "Data health")
    section(tab, "dh_section", "Rejected lines", "Open a rejected line")
    pick(tab, "Open a rejected line", f"{facts['broken_file']}, line {BROKEN_LINE}")
    code = tab.locator(".st-key-dh_rej_detail code").first
    code.wait_for()
    tab.screenshot(path=ARTIFACTS / "admin_reject.png", full_page=True)
    assert (code.text_content() or "").strip() == archived

    section(tab, "dh_section", "Unknown extensions", "Extension to give to someone")
    pick(tab, "Extension to give to someone", UNKNOWN_EXTENSION)
    search = tab.get_by_role("textbox", name="Find the person (name, user name, e-mail)")
    search.fill(EMPLOYEE)
    search.press("Enter")
    settle(tab)
    pick(tab, "Person", f"{EMPLOYEE} (Andrew Adams)")
    tab.locator(".st-key-dh_unk_assign button").click()
    tab.get_by_text(f"Extension {UNKNOWN_EXTENSION} now belongs to {EMPLOYEE}.").wait_for()
    settle(tab)
    tab.screenshot(path=ARTIFACTS / "admin_unknown_extension.png", full_page=True)


def test_a_sites_new_time_zone_moves_the_times_on_home(tab):
    from warehouse import appdb
    from warehouse.access import load_principal
    from warehouse.config import load_settings
    from warehouse.i18n import translator
    from warehouse.reports.home import last_calls

    settings = load_settings()
    newest = last_calls(settings, load_principal(appdb.open_db(settings), EMPLOYEE), 20)[0].started_at
    en = translator("en")

    log_in(tab, EMPLOYEE)
    tab.get_by_text("Times are shown in America/New_York.").wait_for()
    assert en.time(newest, "America/New_York", "medium") in grid_text(tab)
    log_out(tab)

    log_in(tab, "admin", "admin")
    open_page(tab, "Sites and gateways")
    pick(tab, "Site", "New York")
    pick(tab, "Time zone", "Asia/Tokyo", typed="Tokyo")
    tab.locator(".st-key-sg_site_save button").click()
    tab.get_by_text("Site New York saved.").wait_for()
    settle(tab)
    log_out(tab)

    log_in(tab, EMPLOYEE)
    tab.get_by_text("Times are shown in Asia/Tokyo.").wait_for()
    times = grid_text(tab)
    tab.screenshot(path=ARTIFACTS / "admin_home_tokyo.png", full_page=True)
    assert en.time(newest, "Asia/Tokyo", "medium") in times
    assert en.time(newest, "America/New_York", "medium") not in times
