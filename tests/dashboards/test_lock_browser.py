"""End to end in headless Chromium: an employee locks and unlocks their phone; an ADMIN LOCK they cannot undo."""

from __future__ import annotations

import pytest

from tests.dashboards.browser import ARTIFACTS, WAIT_MS, log_in, log_out, open_page, settle

pytestmark = pytest.mark.browser
EMPLOYEE = "giulia.rossi"
EXTENSION = "2302"


@pytest.fixture
def unlocked_afterwards(ravello):
    """Leave the employee's phone as it was: the data home is shared with the other portal tests."""
    yield
    from warehouse import appdb, phonelock
    from warehouse.access import load_principal

    engine = appdb.open_db(ravello)
    phonelock.set_admin_lock(ravello, engine, load_principal(engine, "admin"), EXTENSION, False)
    phonelock.set_user_lock(ravello, engine, load_principal(engine, EMPLOYEE), False)


def test_my_phone_lock_unlock_and_an_admin_lock_the_user_cannot_undo(page, ravello, unlocked_afterwards):
    from playwright.sync_api import expect

    from dashboards.locks import USERS_COLUMN_WIDTHS as COLUMN_WIDTHS
    from warehouse import appdb, phonelock

    engine = appdb.open_db(ravello)
    state = page.locator(".st-key-my_phone_state")
    toggle = page.locator(".st-key-my_phone_toggle button")

    log_in(page, EMPLOYEE)
    open_page(page, "My Phone")
    expect(state).to_contain_text("Unlocked")
    toggle.click()
    expect(state).to_contain_text("Locked by you")
    settle(page)
    assert phonelock.lock_state(engine, EXTENSION).user_locked
    expect(page.get_by_role("button", name="Unlock my phone")).to_be_visible()
    toggle.click()
    expect(page.get_by_text("Your phone is unlocked.")).to_be_visible()
    expect(state).to_contain_text("Unlocked")
    settle(page)
    assert not phonelock.lock_state(engine, EXTENSION).locked
    log_out(page)

    log_in(page, "admin", "admin")
    open_page(page, "Users")
    username = page.get_by_role("textbox", name="User name")
    username.fill(EMPLOYEE)
    username.press("Enter")
    page.get_by_text("1 person", exact=True).wait_for()
    settle(page)
    # the table is drawn on a canvas: click the ADMIN LOCK box of its only row (fixed column widths)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    before = sum(list(COLUMN_WIDTHS.values())[: list(COLUMN_WIDTHS).index("admin_lock")])
    row_middle = 35 + 35 / 2  # header row, then half a data row (Streamlit's default row height)
    page.mouse.click(box["x"] + before + COLUMN_WIDTHS["admin_lock"] / 2, box["y"] + row_middle)
    page.get_by_text(f"Set ADMIN LOCK for: {EMPLOYEE}.").wait_for()
    settle(page)
    page.get_by_role("textbox", name="Reason (shown to the user)").fill("audit of outside calls")
    page.locator(".st-key-users_apply button").click()
    page.get_by_text(f"ADMIN LOCK changed for: {EMPLOYEE}.").wait_for()
    settle(page)
    assert phonelock.lock_state(engine, EXTENSION).admin_locked
    page.screenshot(path=ARTIFACTS / "users_admin_lock.png", full_page=True)
    log_out(page)

    log_in(page, EMPLOYEE)
    open_page(page, "My Phone")
    expect(state).to_contain_text("ADMIN LOCK")
    expect(page.get_by_text("Reason: audit of outside calls")).to_be_visible()
    toggle.click()
    refusal = page.get_by_text("You cannot unlock your phone.")
    refusal.wait_for(timeout=WAIT_MS)
    settle(page)
    expect(state).to_contain_text("ADMIN LOCK")
    page.screenshot(path=ARTIFACTS / "my_phone_admin_lock.png", full_page=True)
    assert phonelock.lock_state(engine, EXTENSION).admin_locked
