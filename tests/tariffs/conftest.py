"""Helpers for tariff tests: a plan written in the own format from a few lines, and one-call quotes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import tomlkit

from tariffs.book import book_of
from tariffs.model import Plan
from tariffs.own import read_plan
from tariffs.rating import Explanation, quote

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "tariffs"

PEAK_OFFPEAK = [
    {"name": "peak", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "18:30"},
    {"name": "offpeak"},
]


@pytest.fixture
def make_plan(tmp_path):
    """make_plan(rates_csv, **plan_toml) -> Plan, read back from files in the own format."""
    counter = iter(range(1000))

    def make(rates: str | dict[str, str], **settings) -> Plan:
        folder = tmp_path / f"plan{next(counter)}"
        folder.mkdir()
        doc = {"name": folder.name, "currency": "EUR", "time_zone": "Europe/Rome", "country": "IT"} | settings
        if isinstance(rates, str):
            (folder / "rates.csv").write_text(rates)
        else:
            for name, text in rates.items():
                (folder / name).write_text(text)
        (folder / "plan.toml").write_text(tomlkit.dumps(doc))
        return read_plan(folder)

    return make


def price(plan: Plan, number: str, at: str, duration: int, direction: str = "out") -> Explanation:
    """Quote one call; `at` is local time in the plan's zone (or carries its own offset)."""
    return quote(book_of([plan]), plan.name, number, datetime.fromisoformat(at), duration, direction=direction)
