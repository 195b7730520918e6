"""The quality, capacity and incoming-call reports on the demo company: each has something to show."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.warehouse.reports.counting import Counting
from warehouse.access import Principal
from warehouse.reports import Filters, get, run_report

END = datetime(2024, 5, 8, 16, 0, tzinfo=UTC)  # a Wednesday afternoon in Europe, morning in New York
ADMIN = Principal("admin", role="administrator", time_zone="Europe/Rome", language="en", assignments=())
ALL = Filters(period="all")
NEW_REPORTS = [
    "quality_by_gateway",
    "quality_by_extension",
    "quality_by_site",
    "quality_by_department",
    "quality_by_device",
    "poor_quality_calls",
    "answer_rate_by_extension",
    "answer_rate_by_hunt_pilot",
    "incoming_by_hour",
    "unanswered_callbacks",
    "gateway_utilisation",
    "concurrent_calls",
    "busiest_hours",
    "erlang_b_sizing",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo company (three working days) loaded into a fresh home the way `ringledger run` does."""
    import os

    from ringledger.demo import load_demo
    from warehouse import appdb, views
    from warehouse.config import load_settings

    home = tmp_path_factory.mktemp("demo-reports")
    saved = {k: os.environ.get(k) for k in ("RINGLEDGER_HOME", "RINGLEDGER_CONFIG", "RINGLEDGER_DATABASE_URL")}
    os.environ["RINGLEDGER_HOME"] = str(home)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    try:
        load_demo(home, legs=12_000, days=3, end=END)
        yield load_settings()
    finally:
        views.reset()
        appdb.dispose_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize("name", NEW_REPORTS)
def test_every_new_report_has_rows_on_the_demo(demo, name):
    result = run_report(demo, ADMIN, name, get(name).defaults.merged(period="all"))
    assert result.rows, name


def test_the_new_york_trunk_sounds_worst(demo):
    rows = run_report(demo, ADMIN, "quality_by_gateway", ALL.merged(traffic="external")).records()
    worst = max(rows, key=lambda r: r["poor_share"])
    assert worst["g1"] == "New York SIP trunk"
    assert worst["low_mos_share"] > 0.1


def test_hunt_pilots_have_unanswered_calls_and_call_backs(demo):
    pilots = {r["g1"]: r for r in run_report(demo, ADMIN, "answer_rate_by_hunt_pilot", ALL).records()}
    assert set(pilots) == {"2900", "4900", "6900"}
    for pilot in pilots.values():
        assert pilot["offered"] == pilot["answered"] + pilot["abandoned"] + pilot["overflowed"] + pilot["not_answered"]
        assert pilot["answered"] > 0
    assert sum(p["abandoned"] for p in pilots.values()) > 0
    assert sum(p["overflowed"] for p in pilots.values()) > 0
    unanswered = run_report(demo, ADMIN, "unanswered_callbacks", ALL).records()
    statuses = Counter(r["callback_status"] for r in unanswered)
    assert statuses["Called back"] > 0
    assert statuses["Tried, not reached"] > 0
    assert statuses["Not called back yet"] > 0
    assert {r["hunt_pilot"] for r in unanswered if r["callback_status"] == "Called back"} >= {"2900", "4900", "6900"}


def test_gateways_show_peaks_and_sizing(demo):
    sizing = {r["gateway"]: r for r in run_report(demo, ADMIN, "erlang_b_sizing", ALL).records()}
    assert set(sizing) == {"Milano PSTN", "London SIP trunk", "New York SIP trunk"}
    assert [sizing[g]["channels"] for g in ("Milano PSTN", "London SIP trunk", "New York SIP trunk")] == [30, 60, 46]
    for row in sizing.values():
        assert row["peak"] >= 3
        assert row["busy_hour_erlangs"] > 0.5
        assert 0 < row["channels_needed"] <= row["channels"]


def test_a_table_of_the_newest_unanswered_calls_reads_the_last_days_first_when_they_settle_it(demo, monkeypatch):
    import warehouse
    from warehouse.reports import engine

    admin = ADMIN
    con = warehouse.connect(demo)
    first, last = con.execute("select min(started_at)::date, max(started_at)::date from calls where counted").fetchone()
    period = Filters(period="custom", date_from=first, date_to=last, time_zone="UTC")

    recent_days = 2  # of the demo's three days

    def unanswered(rows: int, recent_days: int, counting):
        monkeypatch.setattr(engine, "RECENT_DAYS", recent_days)
        return run_report(demo, admin, "unanswered_callbacks", period.merged(max_rows=rows), con=counting)

    everything = unanswered(100_000, 100_000, Counting(con)).records()
    window = last - timedelta(days=recent_days - 1)  # the first of the last days
    settled = [r for r in everything if r["started_at"].date() > window]  # a day after it began
    first_day = [r for r in everything if r["started_at"].date() == window]
    assert len(settled) > 2
    assert len(first_day) > 1
    assert len(everything) > len(settled) + len(first_day)
    # enough rows a day into the last days: those days answer; rows shown from their first day, where
    # a call that began before them would show with only its later legs, or too few rows: the whole period
    for rows, queries in ((len(settled) - 1, 1), (len(settled) + 1, 2), (len(everything), 2)):
        counting = Counting(con)
        shown = unanswered(rows, recent_days, counting)
        assert counting.queries == queries
        whole = unanswered(rows, 100_000, Counting(con))
        assert shown.rows == whole.rows
        assert shown.truncated == whole.truncated
        assert len(shown.rows) == rows
