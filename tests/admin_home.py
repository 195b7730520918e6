"""A small demo data home for the administration tests: the demo company, plus what an administrator fixes.

`build_admin_home(home)` loads the demo company (its carriers' tariffs price every call), then ingests one
more CUCM file with a line that cannot be read, a call through a gateway the inventory does not list, and
a call from an extension nobody has; and gives one New York employee no time zone of their own, so their
times follow their site's. The session fixture builds it once; each test gets its own copy.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cdrs import Leg, cdr_file
from tests.ravello import home_environment

LEGS, DAYS = 1500, 40
UNLISTED_GATEWAY = "GW-OLD-07"
UNKNOWN_EXTENSION = "2998"
EMPLOYEE = "aadams"  # New York; times shown in the site's zone
MILANO_EXTENSION = "2100"
BROKEN_LINE = 4  # the line of the extra file that cannot be read


def build_admin_home(home: Path, now: datetime | None = None) -> dict:
    """Load the demo company into `home` and add the problems the administration pages show."""

    from ringledger.demo import load_demo
    from warehouse import appdb
    from warehouse.appdb import users
    from warehouse.config import load_settings
    from warehouse.directory import publish_snapshot
    from warehouse.ingest import Ingestor
    from warehouse.lake import Lake

    now = (now or datetime.now(UTC)).replace(microsecond=0)
    load_demo(home, legs=LEGS, days=DAYS, end=now)
    settings = load_settings(home=home, path=home / "ringledger.toml")
    engine = appdb.open_db(settings)
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == EMPLOYEE).values(time_zone=""))
    publish_snapshot(engine, Lake(settings.lake_dir))
    drop = home / "extra"
    path = cdr_file(
        drop,
        [
            Leg(MILANO_EXTENSION, "00390212345678", now - timedelta(hours=2), 95, dest_device=UNLISTED_GATEWAY),
            Leg(
                UNKNOWN_EXTENSION,
                MILANO_EXTENSION,
                now - timedelta(hours=3),
                40,
                orig_device="SEP0000000D2998",
                dest_device="SEP0000000D2100",
            ),
        ],
    )
    lines = path.read_bytes().split(b"\n")
    # one more line, cut short: it is rejected and the two calls still load
    lines.insert(BROKEN_LINE - 1, b",".join(lines[2].split(b",")[:100]))
    path.write_bytes(b"\n".join(lines))
    Ingestor(settings).ingest([drop])
    return {"now": now, "broken_file": path.name}


@pytest.fixture(scope="session")
def admin_template(tmp_path_factory) -> tuple[Path, dict]:
    """The administration data home, built once per test session (never changed by a test)."""
    home = tmp_path_factory.mktemp("admin-template") / "home"
    with home_environment(home):
        facts = build_admin_home(home)
    return home, facts


@pytest.fixture
def admin_home(admin_template, tmp_path, monkeypatch) -> tuple[Path, dict]:
    """A copy of the administration data home for one test, with RINGLEDGER_HOME pointing at it."""
    from warehouse import appdb, views

    template, facts = admin_template
    home = tmp_path / "home"
    shutil.copytree(template, home, symlinks=True)
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    monkeypatch.delenv("RINGLEDGER_CONFIG", raising=False)
    monkeypatch.delenv("RINGLEDGER_DATABASE_URL", raising=False)
    yield home, facts
    views.reset()
    appdb.dispose_all()
