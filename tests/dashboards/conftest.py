"""Fixtures of the portal tests: the shared Ravello data home, and the portal in headless Chromium."""

from __future__ import annotations

import pytest

from tests.dashboards.browser import ARTIFACTS, CHROMIUM_ARGS, WAIT_MS, serve_portal
from tests.ravello import ravello, ravello_home  # noqa: F401


@pytest.fixture(scope="session")
def portal(ravello_home, tmp_path_factory):  # noqa: F811
    """`streamlit run` of the portal on a free loopback port, over the Ravello data home."""
    home, _now = ravello_home
    yield from serve_portal(home, tmp_path_factory.mktemp("portal") / "streamlit.log")


@pytest.fixture
def forget_choices(ravello):  # noqa: F811
    """Put back the language people choose in the browser (the data home is shared with other tests)."""
    yield
    from warehouse import appdb
    from warehouse.preferences import set_preferences

    set_preferences(appdb.open_db(ravello), "giulia.rossi", language="")


@pytest.fixture
def page(portal, forget_choices):
    """A Chromium tab on the portal's log-in page."""
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
