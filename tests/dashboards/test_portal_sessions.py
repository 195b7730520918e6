"""Twenty people running reports on the portal at the same moment, in headless Chromium.

Each session logs in as its own person, opens Interactive reports and runs Group cost by department
over all time. Every session must get its answer, and only its own: a user's departments are their
own department and no other, whatever the other nineteen sessions run meanwhile. The time of each
report (click to chart) is written to the test's output; `make soak` records the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path

import pytest

from tests.dashboards.browser import ARTIFACTS, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

SESSIONS = int(os.environ.get("RINGLEDGER_PORTAL_SESSIONS", "20"))
WAIT_MS = 240_000  # twenty sessions share two cores: each step may wait for the others
# Who logs in (people whose portal speaks English), and the only department each may see in the report.
PEOPLE = {
    "giulia.rossi": "Sales",
    "james.carter": "Finance",
    "emily.wong": "Engineering",
}
DEPARTMENTS = {"Sales", "Finance", "Engineering"}


async def one_session(browser, url: str, user: str, index: int) -> dict:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    started = time.perf_counter()
    try:
        await page.goto(url, wait_until="domcontentloaded")
        await page.get_by_role("textbox", name="User name").fill(user)
        await page.get_by_role("textbox", name="Password").fill("demo")
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("heading", name="Last calls").wait_for()
        logged_in = time.perf_counter()
        await page.get_by_role("link", name="Interactive reports").click()
        options = page.locator(".st-key-cat_opt_cost_by_department button")
        await options.wait_for()
        await settle(page)
        await options.click()
        await page.get_by_role("heading", name="Group cost by department").wait_for()
        await settle(page)
        await choose(page, "Period", "All time")
        asked = time.perf_counter()
        await page.locator(".st-key-opt_execute button").click()
        await page.get_by_text("Period: all time").wait_for()
        await page.locator(".js-plotly-plot").first.wait_for()
        answered = time.perf_counter()
        grid = page.locator('[data-testid="stDataFrame"]').last  # the result; the first is the options' conditions
        await grid.locator("canvas").first.focus()
        table = grid.locator('table[role="grid"]')
        await table.wait_for(state="attached")
        text = await table.text_content() or ""
        if index == 0:
            await page.screenshot(path=ARTIFACTS / "twenty_sessions.png", full_page=True)
        return {
            "user": user,
            "seen": sorted(d for d in DEPARTMENTS if d in text),
            "login_s": logged_in - started,
            "report_s": answered - asked,
        }
    except Exception:
        await page.screenshot(path=ARTIFACTS / f"twenty_sessions_failed_{index}.png", full_page=True)
        raise
    finally:
        await context.close()


async def settle(page) -> None:
    await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=WAIT_MS)


async def choose(page, label: str, option: str) -> None:
    """Pick an option of a select box; a rerun that redraws the box closes its list, so it is opened again."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_label(label, exact=True).first
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(6):
        await settle(page)
        await box.click()
        try:
            await wanted.click(timeout=20_000)
        except PlaywrightTimeout:
            await page.keyboard.press("Escape")
            continue
        await settle(page)
        if option in (await box.input_value() or "") or await page.get_by_text(option, exact=True).count():
            return
    raise AssertionError(f"{label!r} never took {option!r}")


async def run_sessions(url: str, count: int) -> list[dict]:
    from playwright.async_api import async_playwright

    users = list(PEOPLE)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(one_session(browser, url, users[i % len(users)], i) for i in range(count)))
        finally:
            await browser.close()


def test_twenty_sessions_run_reports_at_once_and_each_sees_only_its_own(portal):
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    results = asyncio.run(run_sessions(portal, SESSIONS))
    wall = time.perf_counter() - started
    assert len(results) == SESSIONS
    for r in results:
        assert r["seen"] == [PEOPLE[r["user"]]], r
    times = sorted(r["report_s"] for r in results)
    figures = {
        "sessions": SESSIONS,
        "wall_s": round(wall, 1),
        "report_p50_s": round(statistics.median(times), 2),
        "report_max_s": round(times[-1], 2),
        "login_p50_s": round(statistics.median(r["login_s"] for r in results), 2),
    }
    print(json.dumps(figures))
    out = os.environ.get("RINGLEDGER_PORTAL_FIGURES")
    if out:
        Path(out).write_text(json.dumps(figures))
