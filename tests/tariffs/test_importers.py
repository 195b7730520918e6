"""Importers: real decks and CGRateS folders load with their semantics; bad input names file, line and field."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tariffs.book import book_of, detect_format
from tariffs.cgrates import read_cgrates
from tariffs.deck import DeckOptions, read_deck
from tariffs.demo import PLANS, folder
from tariffs.model import TariffError
from tariffs.own import read_plan, write_plan
from tariffs.rating import RATE_IN_SCHEMA, RATE_NUMBERS_SCHEMA, rate_table
from tests.tariffs.conftest import SAMPLES, price

ASTERISELL = SAMPLES / "asterisell" / "international_call_rates_example.csv"


def deck(path: Path, **options):
    return read_deck(path, DeckOptions(**({"name": "deck", "currency": "EUR"} | options)))


def test_the_asterisell_deck_imports_with_its_decimal_comma():
    plan, layout = deck(ASTERISELL, first_block=30, increment=6)
    assert (layout.delimiter, layout.header, layout.decimal_comma) == (",", True, True)
    rates = plan.versions[0].rates
    assert rates.num_rows == 11894
    tim = price(plan, "+393301234567", "2025-06-04T10:00:00+00:00", 60)
    assert (tim.matched, tim.destination, tim.cost) == ("+39330", "Italy Mobile - TIM", Decimal("0.056"))
    fixed = price(plan, "+390212345678", "2025-06-04T10:00:00+00:00", 60)
    assert (fixed.matched, fixed.cost) == ("+39", Decimal("0.0121"))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            "prefix;destination;rate;effective date\n39;Italy;0,0121;2025-01-01\n39;Italy;0,0150;2025-07-01\n",
            {"rows": 2, "delimiter": ";", "comma": True},
        ),
        ("39\tItaly\t0.0121\n393\tItaly mobile\t0.0500\n", {"rows": 2, "delimiter": "\t", "header": False}),
        ("Italy|39|0.0121\nItaly mobile|393|0.05\n", {"rows": 2, "delimiter": "|", "header": False}),
        (
            "Code,Destination,Connect Cost,Cost / Min (USD),Increment\n1,United States,0,0.01,6\n",
            {"rows": 1, "currency": "USD", "ignored": ["Connect Cost", "Increment"]},
        ),
    ],
)
def test_deck_dialects(tmp_path, text, expect):
    path = tmp_path / "deck.csv"
    path.write_text(text)
    options = {"currency": ""} if "currency" in expect else {}
    plan, layout = deck(path, **options)
    assert plan.versions[0].rates.num_rows == expect["rows"]
    assert layout.delimiter == expect.get("delimiter", layout.delimiter)
    assert layout.header == expect.get("header", True)
    assert layout.decimal_comma == expect.get("comma", False)
    assert plan.currency == expect.get("currency", "EUR")
    assert layout.ignored == expect.get("ignored", [])


def test_a_deck_with_effective_dates_changes_price_on_the_date(tmp_path):
    path = tmp_path / "deck.csv"
    path.write_text("prefix;destination;rate;effective date\n39;Italy;0,0121;2025-01-01\n39;Italy;0,0150;2025-07-01\n")
    plan, _ = deck(path, time_zone="Europe/Rome", first_block=60, increment=60)
    assert price(plan, "+390212345678", "2025-06-30T23:59:00+02:00", 60).cost == Decimal("0.0121")
    assert price(plan, "+390212345678", "2025-07-01T00:00:00+02:00", 60).cost == Decimal("0.015")


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("prefix,destination,rate\n39,Italy,0.01\n3x9,Bad,0.02\n", 3, "prefix", "not an E.164 prefix"),
        ("prefix,destination,rate\n39,Italy,0.01\n44,UK,cheap\n", 3, "rate", "not an amount"),
        ("prefix,destination,rate\n39,Italy,0.01\n44,UK,-1\n", 3, "rate", "zero or more"),
        ("prefix,destination,rate\n39,Italy,0.01\n39,Italy again,0.02\n", 3, "prefix", "priced twice"),
        ("destination,rate\nItaly,0.01\n", 1, None, "no prefix column"),
        ("prefix;destination;rate\n39;Italy;1.234,5\n", 2, "rate", "thousands separators"),
    ],
)
def test_deck_errors_name_file_line_and_field(tmp_path, text, line, field, problem):
    path = tmp_path / "carrier.csv"
    path.write_text(text)
    with pytest.raises(TariffError) as err:
        deck(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert problem in str(err.value)
    assert str(err.value).startswith(f"{path}, line {line}")


def rate_digits(plan, digits: str, at: datetime, seconds: int) -> dict:
    """Rate raw digits (CGRateS tutorial destinations are not E.164) with the engine directly."""
    rows = pa.table(
        {"unit_id": [1], "plan": [plan.name], "gateway": [None], "number_id": [7], "t0": [at], "duration_s": [seconds]},
        schema=RATE_IN_SCHEMA,
    )
    numbers = pa.table(
        {"number_id": [7], "digits": [digits], "nation": ["XX"], "dtype": ["national"], "direction": ["out"]},
        schema=RATE_NUMBERS_SCHEMA,
    )
    con = duckdb.connect()
    try:
        return rate_table(con, book_of([plan]), rows, numbers).to_pylist()[0]
    finally:
        con.close()


def test_the_cgrates_tutorial_imports_one_plan_per_rating_plan():
    plans = {p.name: p for p in read_cgrates(SAMPLES / "cgrates_tutorial", currency="EUR")}
    assert set(plans) == {"RP_1001", "RP_1002", "RP_1002_LOW", "RP_1003", "RP_SMS", "RP_MMS"}
    rp = plans["RP_1001"]
    assert rp.versions[0].valid_from == datetime(2014, 1, 14, tzinfo=UTC)  # the earliest profile using it
    assert rp.versions[0].band_mode == "split"
    at = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    # RT_20CNT: connect 0.4, 0.2 per 60 s in 60 s blocks, from second 60 0.1 per 60 s in 1 s blocks
    got = rate_digits(rp, "1002", at, 90)
    assert (got["plan_cost"], got["billed_s"]) == (Decimal("0.65"), 90)
    # DR_1003_MAXCOST_DISC: 0.01 a second, stopped at MaxCost 0.12
    assert rate_digits(rp, "1003", at, 20)["plan_cost"] == Decimal("0.12")
    assert rate_digits(rp, "1003", at, 10)["plan_cost"] == Decimal("0.1")


@pytest.mark.parametrize(
    ("when", "seconds", "cost", "band"),
    [
        ("2024-05-06T10:00:00", 60, "1.2", "PEAK"),  # Monday: RT_40CNT, connect 0.8 + 0.4
        ("2024-05-06T07:00:00", 60, "0.3", "OFFPEAK_MORNING"),  # RT_10CNT, connect 0.2 + 0.1
        ("2024-05-06T20:00:00", 60, "0.3", "OFFPEAK_EVENING"),
        ("2024-05-11T10:00:00", 60, "0.3", "OFFPEAK_WEEKEND"),  # Saturday
        # from 07:59:30: 30 s at the morning rate, 30 s at the peak rate, the morning connect fee
        ("2024-05-06T07:59:30", 60, "0.45", "OFFPEAK_MORNING>PEAK"),
    ],
)
def test_cgrates_timings_pick_the_rate(when, seconds, cost, band):
    plans = {p.name: p for p in read_cgrates(SAMPLES / "cgrates_oldtutorial", currency="EUR")}
    got = rate_digits(plans["RP_RETAIL1"], "1099", datetime.fromisoformat(when).replace(tzinfo=UTC), seconds)
    assert got["plan_cost"] == Decimal(cost)
    assert got["rate_ref"] == f"RP_RETAIL1@1 +10 {band}"


def test_cgrates_timings_read_in_the_given_zone():
    plans = {p.name: p for p in read_cgrates(SAMPLES / "cgrates_oldtutorial", currency="EUR", time_zone="Europe/Rome")}
    # 07:00 UTC is 09:00 in Rome in May: peak
    got = rate_digits(plans["RP_RETAIL1"], "1099", datetime(2024, 5, 6, 7, 0, tzinfo=UTC), 60)
    assert got["rate_ref"].endswith(" PEAK")


def test_cgrates_max_cost_free_strategy_caps_too():
    plans = {p.name: p for p in read_cgrates(SAMPLES / "cgrates_oldtutorial", currency="EUR")}
    at = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    assert rate_digits(plans["RP_RETAIL2"], "1007", at, 100)["plan_cost"] == Decimal("0.62")
    assert rate_digits(plans["RP_RETAIL1"], "1007", at, 100)["plan_cost"] == Decimal("0.62")


@pytest.mark.parametrize(
    ("file", "replace", "line", "field", "problem"),
    [
        (
            "DestinationRates.csv",
            ("DST_1002,RT_20CNT", "DST_NOPE,RT_20CNT"),
            2,
            "DestinationId",
            "not in Destinations.csv",
        ),
        ("Rates.csv", ("RT_20CNT,0.4,0.2,60s", "RT_20CNT,0.4,0.2,60x"), 5, "RateUnit", "not a duration"),
        (
            "RatingPlans.csv",
            ("RP_RETAIL1,DR_FS_40CNT,PEAK", "RP_RETAIL1,DR_FS_40CNT,LUNCH"),
            2,
            "TimingTag",
            "not in Timings.csv",
        ),
        ("Timings.csv", ("1;2;3;4;5,08:00:00", "1;2;3;4;9,08:00:00"), 2, "WeekDays", "must be 0..7"),
    ],
)
def test_cgrates_errors_name_file_line_and_field(tmp_path, file, replace, line, field, problem):
    copy = tmp_path / "tp"
    shutil.copytree(SAMPLES / "cgrates_oldtutorial", copy)
    path = copy / file
    text = path.read_text()
    assert replace[0] in text
    path.write_text(text.replace(replace[0], replace[1], 1))
    with pytest.raises(TariffError) as err:
        read_cgrates(copy, currency="EUR")
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert problem in err.value.problem


OWN_ERRORS = [
    ("prefix,price\n39,0.1\n44,0.1.2\n", {}, "rates.csv", 3, "price", "not an amount"),
    ("prefix,price,colour\n39,0.1,red\n", {}, "rates.csv", 1, "colour", "unknown column"),
    ("prefix,band,price\n39,lunch,0.1\n", {}, "rates.csv", 2, "band", "not defined"),
    ("class,price\nXX mobiles,0.1\n", {}, "rates.csv", 2, "class", "is not one of"),
    ("prefix,price\n39,0.1\n39,0.2\n", {}, "rates.csv", 3, "prefix", "priced twice (first on line 2)"),
    ("prefix,price,first_block\n39,0.1,thirty\n", {}, "rates.csv", 2, "first_block", "whole number"),
    ("prefix,price,rounding_method\n39,0.1,sideways\n", {}, "rates.csv", 2, "rounding_method", "must be one of"),
    ("prefix,price\n39,0.1\n", {"currency": "euro"}, "plan.toml", None, "currency", "ISO 4217"),
    ("prefix,price\n39,0.1\n", {"colour": "red"}, "plan.toml", None, "colour", "unknown setting"),
    ("prefix,price\n39,0.1\n", {"band_mode": "whole"}, "plan.toml", None, "band_mode", "start or split"),
    (
        "prefix,price\n39,0.1\n",
        {"bands": [{"name": "x", "days": ["funday"]}]},
        "plan.toml",
        None,
        "bands[1].days",
        "not a day",
    ),
    (
        "prefix,price\n39,0.1\n",
        {
            "versions": [
                {"id": "a", "valid_from": "2025-01-01", "valid_to": "2025-09-01"},
                {"id": "b", "valid_from": "2025-06-01"},
            ]
        },
        "plan.toml",
        None,
        "valid_to",
        "overlaps",
    ),
]


@pytest.mark.parametrize(
    ("rates", "settings", "file", "line", "field", "problem"), OWN_ERRORS, ids=[e[5] for e in OWN_ERRORS]
)
def test_own_format_errors_name_file_line_and_field(make_plan, rates, settings, file, line, field, problem):
    with pytest.raises(TariffError) as err:
        make_plan(rates, **settings)
    assert Path(err.value.file).name == file
    assert (err.value.line, err.value.field) == (line, field)
    assert problem in err.value.problem


@pytest.mark.parametrize("source", ["asterisell", "cgrates", *PLANS])
def test_every_plan_writes_and_reads_back_the_same(tmp_path, source):
    if source == "asterisell":
        plans = [deck(ASTERISELL, first_block=30, increment=6)[0]]
    elif source == "cgrates":
        plans = read_cgrates(SAMPLES / "cgrates_oldtutorial", currency="EUR")
    else:
        plans = [read_plan(folder(source))]
    for plan in plans:
        target = tmp_path / plan.name
        write_plan(plan, target)
        again = read_plan(target)
        assert detect_format(target) == "own"
        assert [v.digest() for v in again.versions] == [v.digest() for v in plan.versions]
        assert [(v.valid_from, v.valid_to) for v in again.versions] == [
            (v.valid_from, v.valid_to) for v in plan.versions
        ]


def test_formats_are_detected():
    assert detect_format(ASTERISELL) == "deck"
    assert detect_format(SAMPLES / "cgrates_tutorial") == "cgrates"
    assert detect_format(folder("it-carrier")) == "own"
