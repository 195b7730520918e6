"""Stored XSS through the portal: names, departments and report names from the directory or from users,
shown in headless Chromium, stay text.

The data home's people get names carrying markup, script, javascript: links and a remote image; the
test walks the pages that show them (Home's greeting, last calls and personal reports, a report
grouped by department with its chart, People for an administrator) and checks that nothing ran,
nothing was fetched from elsewhere and the names read as they were written.
"""

from __future__ import annotations

import pytest

from tests.dashboards.browser import ARTIFACTS, CHROMIUM_ARGS, WAIT_MS, choose, open_page, serve_portal, settle

pytestmark = pytest.mark.browser

BEACON = "http://127.0.0.1:9/beacon.png"
NAME = 'Giulia <img src=x onerror="window.__xss=1"> Rossi ![b](' + BEACON + ")"
DEPARTMENT = "Sales<script>window.__xss=2</script>"
COST_CENTRE = "[cc](javascript:window.__xss=3)"
SAVED = '**Mine** <img src=x onerror="window.__xss=4"> ![b](' + BEACON + ")"


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    from tests.ravello import build_home, home_environment
    from warehouse import appdb
    from warehouse.config import load_settings
    from warehouse.directory import apply, read_csv
    from warehouse.lake import Lake
    from warehouse.reports.catalogue import get
    from warehouse.reports.store import save_report

    home = tmp_path_factory.mktemp("hostile") / "home"
    with home_environment(home):
        build_home(home)
        settings = load_settings()
        engine = appdb.open_db(settings)
        people = home / "hostile.csv"
        people.write_text(
            "username,display_name,department,cost_centre,site,language,role,extensions\n"
            f'giulia.rossi,"{NAME.replace(chr(34), chr(34) * 2)}","{DEPARTMENT}","{COST_CENTRE}",Milano,en,user,2302\n',
            encoding="utf-8",
        )
        apply(engine, read_csv(people), source="csv", lake=Lake(settings.lake_dir))
        save_report(engine, "giulia.rossi", SAVED, "cost_by_department", get("cost_by_department").defaults)
    return home


@pytest.fixture
def tab(hostile_home, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    for url in serve_portal(hostile_home, tmp_path / "streamlit.log"):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            watch(page)
            page.goto(url, wait_until="domcontentloaded")
            yield page
            browser.close()


def watch(page) -> None:
    """Keep on the page every dialog it opens and every request it makes to the beacon."""
    events: list[str] = []

    def dialog(d) -> None:
        events.append(f"dialog: {d.message}")
        d.dismiss()

    def request(r) -> None:
        if "127.0.0.1:9/" in r.url:
            events.append(f"request: {r.url}")

    page.on("dialog", dialog)
    page.on("request", request)
    page.events = events


def log_in(page, user: str, password: str) -> None:
    page.get_by_role("textbox", name="User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Last calls").wait_for()
    settle(page)


def assert_inert(page, where: str) -> None:
    """Nothing the names carried ran, was fetched or became a link or an element."""
    page.wait_for_timeout(500)  # an onerror handler fires once the broken image has failed
    assert page.evaluate("() => window.__xss === undefined"), f"{where}: a name's script ran"
    assert page.events == [], f"{where}: {page.events}"
    assert page.locator("img[onerror], a[href^='javascript:']").count() == 0, where
    assert not page.evaluate("() => [...document.scripts].some(s => s.text.includes('__xss'))"), where
    assert page.locator(f"img[src='{BEACON}']").count() == 0, where


def grid_text(page, last: bool = False) -> str:
    """The text of the page's first table (or last: a report's result comes after its options)."""
    frames = page.locator('[data-testid="stDataFrame"]')
    frame = frames.last if last else frames.first
    frame.locator("canvas").first.focus()
    grid = frame.locator('table[role="grid"]')
    grid.wait_for(state="attached")
    return grid.text_content() or ""


def test_names_departments_and_report_names_stay_text(tab):
    log_in(tab, "giulia.rossi", "demo")
    tab.screenshot(path=ARTIFACTS / "hostile_home.png", full_page=True)
    assert_inert(tab, "Home")
    # the greeting shows the name as it was written, markup and all
    tab.get_by_text('<img src=x onerror="window.__xss=1">', exact=False).first.wait_for()
    assert NAME in grid_text(tab)
    tab.get_by_text('<img src=x onerror="window.__xss=4">', exact=False).first.wait_for()

    open_page(tab, "Interactive reports")
    tab.locator(".st-key-cat_opt_cost_by_department button").click()
    tab.get_by_role("heading", name="Group cost by department").wait_for()
    settle(tab)
    choose(tab, "Period", "All time")
    tab.locator(".st-key-opt_execute button").click()
    tab.get_by_text("Period: all time").wait_for()
    tab.locator(".js-plotly-plot").first.wait_for()
    settle(tab)
    tab.screenshot(path=ARTIFACTS / "hostile_report.png", full_page=True)
    assert_inert(tab, "Group cost by department")
    assert DEPARTMENT in grid_text(tab, last=True)


def test_an_administrator_sees_the_hostile_person_as_text(tab):
    log_in(tab, "admin", "admin")
    assert_inert(tab, "Home (administrator)")
    open_page(tab, "People and roles")
    settle(tab)
    tab.screenshot(path=ARTIFACTS / "hostile_people.png", full_page=True)
    assert_inert(tab, "People")
    assert NAME in grid_text(tab)
