"""Fixtures of the gadget and API tests: a Ravello data home with priced calls and a budget."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.lock_data import write_calls
from tests.ravello import build_home

# Giulia's priced calls this month: distinctive numbers a test can look for (masked: last 3 digits).
GIULIA_PRICED = [
    ("00390611122233", Decimal("2.40"), 40),
    ("00390644455566", Decimal("2.10"), 90),
]
# A colleague's (James, London) priced call: Giulia must never see it.
JAMES_PRICED = ("00442071234999", Decimal("9.99"), 50)


@dataclass(frozen=True)
class GadgetHome:
    home: Path
    now: datetime


def _with_home(home: Path):
    saved = {k: os.environ.get(k) for k in ("RINGLEDGER_HOME", "RINGLEDGER_CONFIG", "RINGLEDGER_DATABASE_URL")}
    os.environ["RINGLEDGER_HOME"] = str(home)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    return saved


def _restore(saved) -> None:
    from warehouse import appdb, views

    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    views.reset()
    appdb.dispose_all()


@pytest.fixture(scope="session")
def gadget_home(tmp_path_factory) -> GadgetHome:
    """Ravello Instruments with priced calls for Giulia and James and a monthly budget of 10 EUR for Giulia."""
    from warehouse import appdb, budgets
    from warehouse.access import load_principal
    from warehouse.config import load_settings

    home = tmp_path_factory.mktemp("gadgets") / "home"
    now = datetime.now(UTC).replace(microsecond=0)
    saved = _with_home(home)
    try:
        build_home(home, now)
        settings = load_settings()
        # a month's start can be minutes ago: the priced calls stay inside the current month and day
        start = max(now - timedelta(minutes=30), now.replace(day=1, hour=0, minute=0, second=0))
        calls = [
            {
                "extension": "2302",
                "started_at": start + timedelta(seconds=i),
                "cost": cost,
                "other_number": number,
                "duration_s": seconds,
                "gateway": "Milano PSTN",
                "destination_type": "national",
            }
            for i, (number, cost, seconds) in enumerate(GIULIA_PRICED)
        ]
        number, cost, seconds = JAMES_PRICED
        calls.append(
            {
                "extension": "4410",
                "started_at": start,
                "cost": cost,
                "other_number": number,
                "duration_s": seconds,
                "gateway": "London PSTN",
                "destination_type": "national",
            }
        )
        write_calls(settings, calls)
        engine = appdb.open_db(settings)
        admin = load_principal(engine, "admin")
        budgets.assign_budget(settings, engine, admin, "user", "giulia.rossi", "monthly", Decimal("10"), currency="EUR")
        budgets.evaluate(settings, engine)
    finally:
        _restore(saved)
    return GadgetHome(home, now)


@pytest.fixture
def gadget_settings(gadget_home, monkeypatch):
    """Settings of the gadget home, with RINGLEDGER_HOME pointing at it for this test."""
    from warehouse import appdb, views
    from warehouse.config import load_settings

    monkeypatch.setenv("RINGLEDGER_HOME", str(gadget_home.home))
    monkeypatch.delenv("RINGLEDGER_CONFIG", raising=False)
    monkeypatch.delenv("RINGLEDGER_DATABASE_URL", raising=False)
    yield load_settings()
    views.reset()
    appdb.dispose_all()


@pytest.fixture
def app(gadget_settings):
    """The phone service's Flask app over the gadget home."""
    from phone_xml import create_app

    return create_app(gadget_settings)


@pytest.fixture
def engine(gadget_settings):
    from warehouse import appdb

    return appdb.open_db(gadget_settings)
