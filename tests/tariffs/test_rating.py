"""Prices of single calls, table-driven: increments, blocks, fees, caps, bands, daylight saving, rounding, versions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.tariffs.conftest import PEAK_OFFPEAK, price

MILAN = "+390212345678"
MOBILE = "+393351234567"

# (case, rates.csv, plan.toml settings, number, local time, seconds, cost, billed seconds)
CASES = [
    (
        "60/60 one second is a minute",
        "prefix,price,first_block,increment\n39,0.10,60,60\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        1,
        "0.1",
        60,
    ),
    (
        "60/60 exactly a minute",
        "prefix,price,first_block,increment\n39,0.10,60,60\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        60,
        "0.1",
        60,
    ),
    (
        "60/60 a started second minute",
        "prefix,price,first_block,increment\n39,0.10,60,60\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        61,
        "0.2",
        120,
    ),
    (
        "unanswered costs nothing",
        "prefix,price,first_block,increment,connect_fee\n39,0.10,60,60,0.05\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        0,
        "0",
        0,
    ),
    (
        "30/6 short call billed 30 s",
        "prefix,price,first_block,increment\n39,0.06,30,6\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        10,
        "0.03",
        30,
    ),
    (
        "30/6 31 s billed 36 s",
        "prefix,price,first_block,increment\n39,0.06,30,6\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        31,
        "0.036",
        36,
    ),
    (
        "1/1 per second",
        "prefix,price,first_block,increment\n39,0.06,1,1\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        61,
        "0.061",
        61,
    ),
    (
        "first block 60 then per second",
        "prefix,price,first_block,increment\n39,0.06,60,1\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        75,
        "0.075",
        75,
    ),
    (
        "minimum charge lifts a short call",
        "prefix,price,first_block,increment,minimum_charge\n39,0.01,60,1,0.05\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        10,
        "0.05",
        60,
    ),
    (
        "minimum charge below the usage",
        "prefix,price,first_block,increment,minimum_charge\n39,0.01,60,1,0.05\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        400,
        "0.0667",
        400,
    ),
    (
        "connect fee once",
        "prefix,price,first_block,increment,connect_fee\n39,0.12,30,6,0.05\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        61,
        "0.182",
        66,
    ),
    (
        "maximum cost caps a long call",
        "prefix,price,first_block,increment,max_cost\n39,1.0,60,60,2.5\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        600,
        "2.5",
        600,
    ),
    (
        "maximum cost above the usage",
        "prefix,price,first_block,increment,max_cost\n39,1.0,60,60,2.5\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        60,
        "1",
        60,
    ),
    (
        "stepped rate (GroupIntervalStart)",
        "prefix,price,first_block,increment,connect_fee,steps\n39,0.1,60,60,0.2,60:0.05:1\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        90,
        "0.325",
        90,
    ),
    (
        "free seconds: a short call is free",
        "prefix,price,first_block,increment,connect_fee,free_seconds\n39,0.6,1,1,0.1,5\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        4,
        "0",
        0,
    ),
    (
        "free seconds are not billed",
        "prefix,price,first_block,increment,free_seconds\n39,0.6,1,1,5\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        65,
        "0.6",
        60,
    ),
    (
        "price per other unit",
        "prefix,price,per,first_block,increment\n39,0.01,1,1,1\n",
        {},
        MILAN,
        "2025-06-04T10:00",
        61,
        "0.61",
        61,
    ),
]


@pytest.mark.parametrize(
    ("rates", "settings", "number", "at", "seconds", "cost", "billed"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_billing_terms(make_plan, rates, settings, number, at, seconds, cost, billed):
    ex = price(make_plan(rates, **settings), number, at, seconds)
    assert ex.status == "rated", ex.rate_ref
    assert ex.cost == Decimal(cost)
    assert ex.billed_s == billed


BANDED = "prefix,band,price,first_block,increment\n39,peak,0.0408,30,6\n39,offpeak,0.0235,30,6\n"


@pytest.mark.parametrize(
    ("mode", "seconds", "cost", "ref"),
    [
        # Friday 18:25, peak ends 18:30: the reference's worked example
        ("split", 301, "0.2064", "peak>offpeak"),
        ("split", 601, "0.3239", "peak>offpeak"),
        ("start", 301, "0.2081", "peak"),
        ("start", 601, "0.4121", "peak"),
        ("split", 200, "0.1388", "peak"),  # 204 s inside peak: nothing to split
    ],
)
def test_a_call_crossing_a_band_boundary(make_plan, mode, seconds, cost, ref):
    plan = make_plan(BANDED, band_mode=mode, bands=PEAK_OFFPEAK)
    ex = price(plan, MILAN, "2025-06-06T18:25:00", seconds)
    assert ex.cost == Decimal(cost)
    assert ex.rate_ref.endswith(" " + ref)
    if mode == "split" and ">" in ref:
        assert [p.band for p in ex.pieces] == ["peak", "peak", "offpeak"]
        assert sum(p.seconds for p in ex.pieces) == ex.billed_s


def test_band_boundaries_follow_daylight_saving(make_plan):
    plan = make_plan(BANDED, band_mode="start", bands=PEAK_OFFPEAK)
    # 06:30 UTC is 07:30 in Rome on Saturday 29 March 2025 (CET) but 08:30 on Monday 31 March (CEST)
    winter = price(plan, MILAN, "2025-03-28T06:30:00+00:00", 60)
    summer = price(plan, MILAN, "2025-03-31T06:30:00+00:00", 60)
    assert winter.band == "offpeak"
    assert winter.answered_local.endswith("CET")
    assert summer.band == "peak"
    assert summer.answered_local.endswith("CEST")


def test_a_split_call_over_the_night_the_clocks_go_forward(make_plan):
    rates = "prefix,band,price,first_block,increment\n39,night,0.01,1,1\n39,day,0.02,1,1\n"
    bands = [{"name": "night", "from": "00:00", "to": "03:00"}, {"name": "day"}]
    plan = make_plan(rates, band_mode="split", bands=bands)
    # 01:55 CET; at 02:00 the clocks jump to 03:00 CEST, so the night band ends after 5 real minutes
    dst = price(plan, MILAN, "2025-03-30T01:55:00+01:00", 600)
    assert [(p.band, p.seconds) for p in dst.pieces] == [("night", 300), ("day", 300)]
    assert dst.cost == Decimal("0.15")
    ordinary = price(plan, MILAN, "2025-03-29T01:55:00+01:00", 600)
    assert ordinary.cost == Decimal("0.1")
    assert not ordinary.pieces


@pytest.mark.parametrize(
    ("price_per_minute", "seconds", "decimals", "method", "cost"),
    [
        ("0.0601", 10, 4, "up", "0.0101"),
        ("0.0601", 10, 4, "down", "0.01"),
        ("0.0601", 10, 4, "half_up", "0.01"),
        ("0.0003", 30, 4, "up", "0.0002"),
        ("0.0003", 30, 4, "down", "0.0001"),
        ("0.0003", 30, 4, "half_up", "0.0002"),
        ("0.25", 30, 2, "up", "0.13"),
        ("0.25", 30, 2, "down", "0.12"),
        ("0.25", 30, 2, "half_up", "0.13"),
        ("1.5", 30, 0, "up", "1"),
        ("1.5", 30, 0, "down", "0"),
        ("0.1", 30, 6, "up", "0.05"),
    ],
)
def test_rounding(make_plan, price_per_minute, seconds, decimals, method, cost):
    plan = make_plan(
        f"prefix,price,first_block,increment\n39,{price_per_minute},1,1\n",
        rounding={"decimals": decimals, "method": method},
    )
    ex = price(plan, MILAN, "2025-06-04T10:00", seconds)
    assert ex.cost == Decimal(cost)
    assert ex.rounding_method == method


def test_rounding_is_exact_across_split_pieces(make_plan):
    # 10 s at 0.1/min is 0.01666..., 20 s is 0.03333...: together exactly 0.05, rounded up stays 0.05
    rates = "prefix,band,price,first_block,increment\n39,peak,0.1,1,1\n39,offpeak,0.1,1,1\n"
    plan = make_plan(rates, band_mode="split", bands=PEAK_OFFPEAK, rounding={"decimals": 6, "method": "up"})
    ex = price(plan, MILAN, "2025-06-06T18:29:50", 30)
    assert [p.seconds for p in ex.pieces] == [10, 20]
    assert ex.cost == Decimal("0.05")


def test_a_version_switching_mid_period(make_plan):
    plan = make_plan(
        {
            "old.csv": "prefix,price,first_block,increment\n39,0.10,60,60\n",
            "new.csv": "prefix,price,first_block,increment\n39,0.20,60,60\n",
        },
        versions=[
            {"id": "H1", "valid_from": "2025-01-01", "rates": "old.csv"},
            {"id": "H2", "valid_from": "2025-07-01", "rates": "new.csv"},
        ],
    )
    # a call answered before midnight keeps the version it started under, even as it runs into July
    before = price(plan, MILAN, "2025-06-30T23:59:30", 120)
    after = price(plan, MILAN, "2025-07-01T00:00:00", 120)
    assert (before.version, before.cost) == ("H1", Decimal("0.2"))
    assert (after.version, after.cost) == ("H2", Decimal("0.4"))
    assert before.rate_ref.startswith(f"{plan.name}@H1 +39")
    too_early = price(plan, MILAN, "2024-12-31T23:00", 60)
    assert too_early.status == "unrated"
    assert "no version in force" in too_early.rate_ref


def test_rows_with_effective_dates_take_over(make_plan):
    plan = make_plan(
        "prefix,price,first_block,increment,effective_from\n39,0.10,60,60,2025-01-01\n39,0.20,60,60,2025-03-01\n"
    )
    assert price(plan, MILAN, "2025-02-28T23:59", 60).cost == Decimal("0.1")
    assert price(plan, MILAN, "2025-03-01T00:00", 60).cost == Decimal("0.2")
    assert price(plan, MILAN, "2024-12-31T12:00", 60).status == "unrated"


def test_holidays_are_off_peak(make_plan):
    plan = make_plan(BANDED, bands=PEAK_OFFPEAK, holidays=["12-25", "2025-04-21"])
    assert price(plan, MILAN, "2025-12-25T10:00", 60).band == "offpeak"  # a Thursday
    assert price(plan, MILAN, "2025-04-21T10:00", 60).band == "offpeak"  # Easter Monday
    assert price(plan, MILAN, "2025-04-22T10:00", 60).band == "peak"


MATCHING = (
    "prefix,class,destination,price,first_block,increment\n"
    "39,,Italy,0.01,1,1\n393,,Italy mobile prefix,0.10,1,1\n39335,,TIM,0.20,1,1\n"
    ",IT mobile,Italy mobile class,0.15,1,1\n,* international,World,0.60,1,1\n44,,United Kingdom,0.03,1,1\n"
)


@pytest.mark.parametrize(
    ("number", "matched", "cost"),
    [
        ("+393351234567", "+39335", "0.2"),  # the longest prefix wins
        ("+393401234567", "+393", "0.1"),  # a prefix longer than the country code beats a class
        (MILAN, "+39", "0.01"),
        ("+442079460000", "+44", "0.03"),
        ("+4930123456", "* international", "0.6"),
    ],
)
def test_longest_prefix_and_classes(make_plan, number, matched, cost):
    ex = price(make_plan(MATCHING), number, "2025-06-04T10:00", 60)
    assert (ex.matched, ex.cost) == (matched, Decimal(cost))


def test_a_class_beats_the_bare_country_prefix(make_plan):
    plan = make_plan("prefix,class,price,first_block,increment\n39,,0.01,1,1\n,IT mobile,0.15,1,1\n")
    assert price(plan, MOBILE, "2025-06-04T10:00", 60).matched == "IT mobile"


@pytest.mark.parametrize(
    ("number", "settings", "rates", "cost", "ref"),
    [
        ("112", {}, "prefix,price\n39,0.1\n", "0", "free: emergency"),
        ("800123456", {}, "prefix,price\n39,0.1\n", "0", "free: toll_free"),
        ("800123456", {}, "prefix,class,price\n39,,0.1\n,IT toll_free,0.05\n", "0.05", "IT toll_free"),
        ("800123456", {"free": ["internal", "emergency"]}, "prefix,price\n39,0.1\n", "0.1", "+39"),
        ("899123456", {}, "prefix,class,price,connect_fee\n39,,0.1,\n,IT premium,1.5,0.25\n", "1.75", "IT premium"),
    ],
)
def test_free_destinations_unless_the_plan_says_otherwise(make_plan, number, settings, rates, cost, ref):
    ex = price(make_plan(rates, **settings), number, "2025-06-04T10:00", 60)
    assert ex.cost == Decimal(cost)
    assert ref in ex.rate_ref


def test_unrated_calls_say_why(make_plan):
    plan = make_plan("prefix,price\n39,0.1\n")
    unknown = price(plan, "12345", "2025-06-04T10:00", 60)
    assert (unknown.cost, unknown.rate_ref) == (None, "unrated: unknown destination")
    no_rate = price(plan, "+442079460000", "2025-06-04T10:00", 60)
    assert no_rate.cost is None
    assert no_rate.rate_ref == f"unrated: no rate for +442079460000 in {plan.name}@1"
    banded = make_plan("prefix,band,price\n39,peak,0.1\n", bands=PEAK_OFFPEAK)
    night = price(banded, MILAN, "2025-06-04T22:00", 60)
    assert night.cost is None
    assert "has no rate at this time" in night.rate_ref


def test_incoming_calls_cost_nothing_unless_the_plan_prices_them(make_plan):
    plain = make_plan("prefix,price\n39,0.1\n")
    ex = price(plain, MILAN, "2025-06-04T10:00", 60, direction="in")
    assert ex.cost == 0
    assert ex.rate_ref.startswith("incoming: not charged")
    inbound = make_plan("prefix,price,direction\n39,0.1,out\n39,0.02,in\n")
    assert price(inbound, MILAN, "2025-06-04T10:00", 60, direction="in").cost == Decimal("0.02")


def test_the_explanation_adds_up(make_plan):
    plan = make_plan("prefix,price,first_block,increment,connect_fee,minimum_charge\n39,0.0408,30,6,0.062,0.2\n")
    ex = price(plan, MILAN, "2025-06-04T10:00", 95)
    assert sum(s.billed_s for s in ex.steps) == ex.billed_s == 96
    assert ex.subtotal == ex.connect_fee + ex.usage == Decimal("0.062") + Decimal("0.06528")
    assert ex.minimum_applied
    assert ex.unrounded == Decimal("0.2")
    assert ex.cost == Decimal("0.2")
    text = "\n".join(ex.lines())
    for fact in (
        "matched: +39",
        "step 1: seconds 0-30",
        "billed 66 s",
        "connect fee: 0.062",
        "minimum charge: 0.2 (applied)",
        "rounding:",
    ):
        assert fact in text
    assert ex.as_dict()["cost"] == "0.2000"
