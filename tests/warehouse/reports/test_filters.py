"""Report options: periods in local time (DST included), JSON, SQL from allow-lists only, descriptions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from warehouse.i18n import translator
from warehouse.reports.filters import (
    Condition,
    FilterError,
    Filters,
    Params,
    build_where,
    conditions_sql,
    describe,
    resolve_period,
)


def test_this_month_is_local_midnight_to_local_midnight_across_dst():
    # 15 March 2026 in Rome: the month runs from 1 March 00:00 CET (UTC+1) to 1 April 00:00 CEST (UTC+2)
    period = resolve_period(Filters(period="this_month"), "Europe/Rome", datetime(2026, 3, 15, 12, tzinfo=UTC))
    assert period.first == date(2026, 3, 1)
    assert period.last == date(2026, 3, 31)
    assert period.start_utc == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert period.end_utc == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


def test_today_depends_on_the_zone():
    now = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 04:30 in Rome, still 26 November in New York
    rome = resolve_period(Filters(period="today"), "Europe/Rome", now)
    new_york = resolve_period(Filters(period="today"), "America/New_York", now)
    assert rome.first == date(2026, 11, 27)
    assert new_york.first == date(2026, 11, 26)
    assert new_york.start_utc == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("yesterday", date(2026, 1, 6), date(2026, 1, 6)),
        ("this_week", date(2026, 1, 5), date(2026, 1, 11)),
        ("last_week", date(2025, 12, 29), date(2026, 1, 4)),
        ("last_month", date(2025, 12, 1), date(2025, 12, 31)),
        ("this_quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("last_quarter", date(2025, 10, 1), date(2025, 12, 31)),
        ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
        ("last_12_months", date(2025, 2, 1), date(2026, 1, 31)),
        ("last_30_days", date(2025, 12, 9), date(2026, 1, 7)),
    ],
)
def test_relative_periods(period, first, last):
    got = resolve_period(Filters(period=period), "UTC", datetime(2026, 1, 7, 10, tzinfo=UTC))
    assert (got.first, got.last) == (first, last)


def test_custom_period_needs_both_dates_in_order():
    with pytest.raises(ValueError, match="date_from and date_to"):
        Filters(period="custom", date_from=date(2026, 1, 1))
    with pytest.raises(ValueError, match="before date_from"):
        Filters(period="custom", date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))


def test_json_round_trip_keeps_every_option():
    filters = Filters(
        period="custom",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        traffic="external",
        gateways=["Milano PSTN"],
        departments=["Sales"],
        call_types=["outgoing_answered"],
        destination_types=["international"],
        max_rows=50,
        conditions=[
            Condition(field="cost", op="ge", value="1.5"),
            Condition(field="area", op="contains", value="Rom", join="or"),
        ],
        time_zone="Europe/London",
        fields=["started_at", "cost"],
    )
    assert Filters.from_json(filters.to_json()) == filters


def test_bad_json_names_the_option():
    with pytest.raises(FilterError, match=r"--filter: conditions\.0\.field: unknown field 'password'"):
        Filters.from_json('{"conditions": [{"field": "password", "op": "eq", "value": "x"}]}', where="--filter")
    with pytest.raises(FilterError, match="traffic"):
        Filters.from_json('{"traffic": "outer space"}')
    with pytest.raises(FilterError, match="unknown time zone"):
        Filters.from_json('{"time_zone": "Mars/Olympus"}')


def test_condition_values_are_bound_never_pasted():
    params = Params()
    evil = "x'); drop table calls; --"
    sql = conditions_sql([Condition(field="user_name", op="contains", value=evil)], params)
    assert evil not in sql
    assert evil in params.values.values()


def test_conditions_join_with_and_or():
    params = Params()
    sql = conditions_sql(
        [
            Condition(field="cost", op="ge", value="2"),
            Condition(field="duration_s", op="gt", value="60", join="and"),
            Condition(field="destination_type", op="eq", value="international", join="or"),
        ],
        params,
    )
    assert sql == "(c.cost >= $p0 and c.duration_s > $p1 or c.destination_type = $p2)"
    assert list(params.values.values())[:2] == [2, 60]


def test_a_number_condition_must_be_a_number():
    with pytest.raises(FilterError, match="cost.*'lots' is not a number"):
        conditions_sql([Condition(field="cost", op="ge", value="lots")], Params())


def test_the_period_names_its_day_partitions():
    filters = Filters(period="today")
    period = resolve_period(filters, "Europe/Rome", datetime(2026, 11, 27, 10, tzinfo=UTC))
    params = Params()
    parts = build_where(filters, period, params)
    assert any(p.startswith("c.day >=") for p in parts)
    assert date(2026, 11, 26) in params.values.values()  # Rome's 27 November starts at 23:00 UTC the day before


def test_description_in_the_readers_language_masks_numbers():
    filters = Filters(
        period="last_month",
        departments=["Sales"],
        numbers=["0039021234567"],
        conditions=[Condition(field="other_number", op="eq", value="0039021234567")],
    )
    now = datetime(2026, 3, 15, tzinfo=UTC)
    period = resolve_period(filters, "Europe/Rome", now)
    english = describe(filters, translator("en"), "Europe/Rome", period, hidden_digits=3)
    german = describe(filters, translator("de"), "Europe/Rome", period, hidden_digits=3)
    assert "Last month" in english
    assert "Sales" in english
    assert "0039021234***" in english
    assert "0039021234567" not in english
    assert "Letzter Monat" in german
    assert "Abteilungen: Sales" in german
