"""Capacity reports on crafted carrier legs: utilisation per hour, concurrent-call peaks, busiest hours, Erlang B.

Every expected figure is worked out by hand from the legs below (times UTC, reports in UTC). Each test
runs twice: over the gateway quarters stored as the calls build stores them (warehouse.gateway_load),
and over the calls themselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.calls_lake import leg, write_calls
from warehouse.access import Principal
from warehouse.reports import Filters, run_report

CONFIG = """
[[devices]]
device = "ALPHA-GW"
kind = "gateway"
label = "Alpha"
channels = 4

[[devices]]
device = "BETA-*"
kind = "trunk"
label = "Beta"
channels = 2

[[devices]]
device = "GAMMA-GW"
kind = "gateway"
label = "Gamma"
channels = 3
"""

ADMIN = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())


def t(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def carrier(start, end, answer=None, gateway="Alpha", device="ALPHA-GW", trunk=None, **values):
    """An outgoing leg on a gateway, with its own trunk leg unless one is given."""
    row = leg(start, end, answer, **({"direction": "outgoing", "leg_role": "caller", "extension": "2001"} | values))
    row.update(gateway=gateway, gateway_device=device, trunk_leg_id=trunk or "trunk:" + row["leg_id"])
    return row


LEGS = [
    # Alpha, across midnight of 2-3 March: two legs started on the 2nd (the 2nd's partition)
    carrier(t(2, 23, 50), t(3, 0, 20), t(2, 23, 50)),  # L1 up 23:50-00:20
    carrier(t(2, 23, 54, 50), t(3, 0, 5), t(2, 23, 55)),  # L2 up 23:55-00:05 (rang 10 s first)
    carrier(t(3, 0, 0), t(3, 0, 10), t(3, 0, 0)),  # L3 00:00-00:10
    carrier(t(3, 0, 2), t(3, 0, 3)),  # L4 a seizure never answered: 00:02-00:03
    # L5: one carrier leg split by a transfer into two rows: first connect 00:30:05, last disconnect 00:40
    carrier(t(3, 0, 30), t(3, 0, 31), t(3, 0, 30, 5), trunk="trunk:L5", leg_kind="transfer_split"),
    carrier(t(3, 0, 31), t(3, 0, 40), t(3, 0, 31, 10), trunk="trunk:L5", direction="incoming", leg_role="callee"),
    # a conference leg of an outside party holds a channel though it is not counted as a call
    carrier(t(3, 1, 0), t(3, 1, 6), t(3, 1, 0), leg_kind="conference", counted=False),
    # Beta: a call spanning two hours, 10:40-11:10
    carrier(t(3, 10, 39, 50), t(3, 11, 10), t(3, 10, 40), gateway="Beta", device="BETA-01"),
    # Beta: a line forwarded to a mobile: in and out on Beta, two channels for 12:00:10-12:10:10
    carrier(
        t(3, 12, 0),
        t(3, 12, 10, 10),
        t(3, 12, 0, 10),
        gateway="Beta",
        device="BETA-02",
        direction="tandem",
        leg_role="transit",
        counted=False,
        orig_device="BETA-01",
        call_id="T:1:999",
        leg_id="T:501:502",
        trunk="T:1:502",
    ),
    # Gamma: 0.5 erlang at 10:00 on the 2nd, 2 erlangs at 09:00 on the 3rd
    carrier(t(2, 10, 0), t(2, 10, 30), t(2, 10, 0), gateway="Gamma", device="GAMMA-GW"),
    carrier(t(3, 9, 0), t(3, 10, 0), t(3, 9, 0), gateway="Gamma", device="GAMMA-GW"),
    carrier(t(3, 9, 0), t(3, 10, 0), t(3, 9, 0), gateway="Gamma", device="GAMMA-GW"),
    # an internal call holds no channel
    leg(t(3, 0, 1), t(3, 0, 9), t(3, 0, 1), direction="internal", extension="2002"),
]


@pytest.fixture(params=["stored", "from_calls"])
def lake(home, request):
    """The crafted calls, with their gateway quarters stored as the calls build stores them, or not."""
    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    from warehouse import gateway_load
    from warehouse.config import load_settings

    settings = load_settings()
    write_calls(settings, LEGS)
    if request.param == "stored":
        assert gateway_load.rebuild(settings) > 0
    return settings


def day3(**options) -> Filters:
    return Filters(period="custom", date_from=date(2026, 3, 3), date_to=date(2026, 3, 3), time_zone="UTC", **options)


def rows(settings, name: str, filters: Filters, gateway: str | None = None) -> list[dict]:
    """The report's rows (of one gateway: picked here, so that the stored quarters answer it too)."""
    records = run_report(settings, ADMIN, name, filters).records()
    return [r for r in records if gateway is None or r["gateway"] == gateway]


def test_utilisation_per_hour_across_midnight(lake):
    hours = {(r["gateway"], r["hour"]): r for r in rows(lake, "gateway_utilisation", day3())}
    midnight = hours[("Alpha", datetime(2026, 3, 3, 0, 0))]
    # held in 00:00-01:00 on the 3rd: L1 1200 s (from midnight), L2 300, L3 600, L4 60 (a seizure), L5 595
    assert midnight["connected_s"] == 1200 + 300 + 600 + 595
    assert midnight["seizure_s"] == 60
    assert midnight["legs"] == 5
    assert midnight["channels"] == 4
    assert midnight["erlangs"] == pytest.approx(2755 / 3600)
    assert midnight["utilisation"] == pytest.approx(2755 / (3600 * 4))
    assert midnight["peak"] == 4  # L1, L2, L3 and L4 at 00:02
    conference = hours[("Alpha", datetime(2026, 3, 3, 1, 0))]
    assert conference["connected_s"] == 360
    # the 2nd's 23:00 hour is outside the period: nothing of it shows
    assert ("Alpha", datetime(2026, 3, 2, 23, 0)) not in hours


def test_a_call_spanning_two_hours_is_split_between_them(lake):
    hours = {(r["gateway"], r["hour"]): r for r in rows(lake, "gateway_utilisation", day3(), "Beta")}
    assert hours[("Beta", datetime(2026, 3, 3, 10, 0))]["connected_s"] == 1200
    assert hours[("Beta", datetime(2026, 3, 3, 10, 0))]["utilisation"] == pytest.approx(1200 / (3600 * 2))
    assert hours[("Beta", datetime(2026, 3, 3, 11, 0))]["connected_s"] == 600
    assert hours[("Beta", datetime(2026, 3, 3, 11, 0))]["utilisation"] == pytest.approx(600 / 7200)
    # the forwarded call holds a channel coming in and one going out
    noon = hours[("Beta", datetime(2026, 3, 3, 12, 0))]
    assert noon["connected_s"] == 2 * 600
    assert noon["peak"] == 2
    assert noon["utilisation"] == pytest.approx(1.0 / 6)


def test_concurrent_peaks_count_calls_up_since_the_day_before(lake):
    quarter = rows(lake, "concurrent_calls", day3(interval="15min"), "Alpha")
    peaks = [(r["interval_start"], r["peak"], r["peak_at"], r["seized"]) for r in quarter]
    assert peaks == [
        # L1 and L2 up at midnight, L3 at 00:00, L4 at 00:02: four at once
        (datetime(2026, 3, 3, 0, 0), 4, datetime(2026, 3, 3, 0, 2), 2),
        # only L1 (until 00:20) from the start of the quarter
        (datetime(2026, 3, 3, 0, 15), 1, datetime(2026, 3, 3, 0, 15), 0),
        # the transferred leg, one channel from its first connect
        (datetime(2026, 3, 3, 0, 30), 1, datetime(2026, 3, 3, 0, 30, 5), 1),
        (datetime(2026, 3, 3, 1, 0), 1, datetime(2026, 3, 3, 1, 0), 1),
    ]
    assert quarter[0]["peak_share"] == pytest.approx(1.0)
    both_days = Filters(
        period="custom", date_from=date(2026, 3, 2), date_to=date(2026, 3, 3), time_zone="UTC", interval="hour"
    )
    hourly = {(r["gateway"], r["interval_start"]): r["peak"] for r in rows(lake, "concurrent_calls", both_days)}
    assert hourly[("Alpha", datetime(2026, 3, 2, 23, 0))] == 2  # L1 and L2 from 23:55
    assert hourly[("Alpha", datetime(2026, 3, 3, 0, 0))] == 4
    assert hourly[("Gamma", datetime(2026, 3, 3, 9, 0))] == 2
    daily = {
        (r["gateway"], r["interval_start"]): r["peak"] for r in rows(lake, "concurrent_calls", day3(interval="day"))
    }
    assert daily == {
        ("Alpha", datetime(2026, 3, 3)): 4,
        ("Beta", datetime(2026, 3, 3)): 2,
        ("Gamma", datetime(2026, 3, 3)): 2,
    }


def test_days_follow_the_report_zone(lake):
    # in New York (UTC-5 in early March) the legs around UTC midnight all fall on the local 2nd
    filters = Filters(
        period="custom",
        date_from=date(2026, 3, 2),
        date_to=date(2026, 3, 2),
        time_zone="America/New_York",
        interval="day",
    )
    daily = rows(lake, "concurrent_calls", filters, "Alpha")
    assert [(r["interval_start"], r["peak"]) for r in daily] == [(datetime(2026, 3, 2), 4)]


def test_busiest_hours_rank_traffic_and_peaks(lake):
    busiest = [r for r in rows(lake, "busiest_hours", day3()) if r["gateway"] == "Alpha"]
    assert [(r["hour"], r["traffic_rank"], r["peak_rank"]) for r in busiest] == [
        (datetime(2026, 3, 3, 0, 0), 1, 1),
        (datetime(2026, 3, 3, 1, 0), 2, 2),
    ]
    assert busiest[0]["erlangs"] == pytest.approx(2755 / 3600)


def test_erlang_b_sizing_from_the_busiest_days(lake):
    both_days = dict(period="custom", date_from=date(2026, 3, 2), date_to=date(2026, 3, 3), time_zone="UTC")
    one = {r["gateway"]: r for r in rows(lake, "erlang_b_sizing", Filters(**both_days, busy_days=1))}
    gamma = one["Gamma"]
    assert gamma["days"] == 2
    assert gamma["busiest_hour"] == datetime(2026, 3, 3, 9, 0)
    assert gamma["busiest_erlangs"] == pytest.approx(2.0)
    assert gamma["busy_hour_erlangs"] == pytest.approx(2.0)
    assert gamma["peak"] == 2
    assert gamma["target_blocking"] == pytest.approx(0.01)
    assert gamma["channels_needed"] == 7  # Erlang B table: 6 channels carry 1.91 Erl at 1 %, 7 carry 2.50
    assert gamma["blocking"] == pytest.approx(4 / 19)  # B(3, 2) by hand
    assert gamma["spare_channels"] == 3 - 7
    # the mean of the two days' busy hours, 2.0 and 0.5 Erl, at 2 % blocking
    two = {r["gateway"]: r for r in rows(lake, "erlang_b_sizing", Filters(**both_days, busy_days=2, blocking_pct=2))}
    assert two["Gamma"]["busy_hour_erlangs"] == pytest.approx(1.25)
    assert two["Gamma"]["channels_needed"] == 5  # table: 4 channels carry 1.09 Erl at 2 %, 5 carry 1.66
    assert two["Gamma"]["target_blocking"] == pytest.approx(0.02)


def test_capacity_reports_follow_the_scope(lake):
    # a person sees the load of the calls they may see: none of these are theirs
    nobody = Principal("u9", role="user", time_zone="UTC", language="en", assignments=())
    assert run_report(lake, nobody, "gateway_utilisation", day3()).rows == []


def test_a_gateway_option_is_answered_from_the_calls(lake):
    beta = rows(lake, "gateway_utilisation", day3(gateways=["Beta"]))
    assert {r["gateway"] for r in beta} == {"Beta"}
    assert beta == rows(lake, "gateway_utilisation", day3(), "Beta")


def test_stored_quarters_are_read_only_while_the_gateway_inventory_is_the_one_they_were_stored_with(home):
    from warehouse import gateway_load
    from warehouse.config import load_settings
    from warehouse.reports.catalogue import get
    from warehouse.reports.engine import build_query

    def reads_stored(name: str = "busiest_hours", filters: Filters | None = None) -> bool:
        return "from gateway_load" in build_query(load_settings(), ADMIN, get(name), filters or day3()).sql

    def alpha_channels() -> set[int]:
        return {r["channels"] for r in rows(load_settings(), "gateway_utilisation", day3(), "Alpha")}

    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    write_calls(load_settings(), LEGS)
    assert not reads_stored()  # nothing stored yet: worked out from the calls
    gateway_load.rebuild(load_settings())
    assert all(reads_stored(n) for n in ("gateway_utilisation", "busiest_hours", "erlang_b_sizing"))
    assert reads_stored("concurrent_calls", day3(interval="day"))
    assert not reads_stored(filters=day3(gateways=["Alpha"]))
    assert alpha_channels() == {4}
    # Alpha gets two more channels: the stored quarters carry the old ones, so the reports go back to
    # the calls until the quarters are stored again
    (home / "ringledger.toml").write_text(CONFIG.replace("channels = 4", "channels = 6"), encoding="utf-8")
    assert not reads_stored()
    assert alpha_channels() == {6}
    assert gateway_load.stale_days(load_settings()) == [date(2026, 3, 2), date(2026, 3, 3)]
    gateway_load.rebuild(load_settings())
    assert reads_stored()
    assert alpha_channels() == {6}
