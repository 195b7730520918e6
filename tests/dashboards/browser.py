"""What the portal's browser tests share: the portal served by `streamlit run`, Chromium, and page helpers.

The fixtures (`portal`, `page`) live in this folder's conftest.py; the helpers here drive Streamlit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_portal(home: Path, log: Path) -> Iterator[str]:
    """`streamlit run` of the portal on a free loopback port over a data home; yields its URL, then stops it."""
    port = free_port()
    env = dict(os.environ, RINGLEDGER_HOME=str(home))
    env.pop("RINGLEDGER_CONFIG", None)
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


def settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=WAIT_MS)


def log_in(page, user: str, password: str = "demo") -> None:
    """Log in through the form and wait for the home page.

    The log-in page can be drawn once more right after it first shows (the navigation changes its
    pages on log-out); a form redrawn between filling and clicking is sent empty, so when the home page
    does not come the form is filled and sent again, a few times at most.
    """
    name = page.get_by_role("textbox", name="User name")
    button = page.get_by_role("button", name="Log in")
    home = page.get_by_role("heading", name="Last calls")
    for attempt in range(3):
        # while Streamlit redraws, the page it leaves may still show a box of that name beside the form
        expect(name).to_have_count(1, timeout=WAIT_MS)
        name.fill(user)
        page.get_by_role("textbox", name="Password").fill(password)
        button.click()
        try:
            home.wait_for(timeout=WAIT_MS // 3)
            break
        except PlaywrightTimeout:
            settle(page)  # a slow first drawing of the home page is waited for, not sent again
            if attempt == 2 or home.is_visible() or not button.is_visible():
                break
    home.wait_for()
    settle(page)


def click_for(button, shown) -> None:
    """Click `button` and wait for `shown`; a click that lands while Streamlit reruns the page is lost,
    so when nothing shows for a while and the button is still there, click it once more."""
    button.click()
    try:
        shown.wait_for(timeout=WAIT_MS // 3)
    except PlaywrightTimeout:
        if button.is_visible():
            button.click()
        shown.wait_for()


def log_out(page) -> None:
    """Log out from the sidebar and wait for the log-in form."""
    # pages may have a "User name" box of their own: the form is known by its button
    click_for(page.locator(".st-key-logout button"), page.get_by_role("button", name="Log in"))
    settle(page)


def open_page(page, title: str) -> None:
    """Open a page from the menu and wait until it is drawn."""
    page.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit select box by its label.

    A rerun of the script can redraw the box while its list is opening, which closes the list: on a
    busy machine that happens, so the box is opened again (a few times at most) until the option shows.
    """
    settle(page)
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(4):
        page.get_by_label(label, exact=True).first.click()
        try:
            wanted.wait_for(timeout=WAIT_MS // 4)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settle(page)
    wanted.click()
