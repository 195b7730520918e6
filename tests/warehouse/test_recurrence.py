"""Recurrence of scheduled reports and alarms: month ends, leap days, daylight saving, catch-up once."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from warehouse.recurrence import Recurrence, RecurrenceError, parse_start

ROME = "Europe/Rome"
NEW_YORK = "America/New_York"


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)


def runs(rec: Recurrence, count: int) -> list[datetime]:
    return [local(rec.occurrence(k), rec.zone) for k in range(count)]


def test_the_31st_runs_on_the_last_day_of_shorter_months_and_comes_back():
    rec = Recurrence(1, "months", datetime(2026, 1, 31, 8, 0), ROME)
    assert [d.date().isoformat() for d in runs(rec, 6)] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
    ]
    assert all(d.hour == 8 and d.minute == 0 for d in runs(rec, 6))


def test_the_30th_in_february_of_a_leap_year_is_the_29th():
    rec = Recurrence(1, "months", datetime(2027, 12, 30, 7, 15), ROME)
    assert [d.date().isoformat() for d in runs(rec, 4)] == ["2027-12-30", "2028-01-30", "2028-02-29", "2028-03-30"]


def test_every_three_months_from_the_31st():
    rec = Recurrence(3, "months", datetime(2026, 8, 31, 6, 0), ROME)
    assert [d.date().isoformat() for d in runs(rec, 4)] == ["2026-08-31", "2026-11-30", "2027-02-28", "2027-05-31"]


def test_a_yearly_run_from_29_february_falls_on_28_february_in_common_years():
    rec = Recurrence(12, "months", datetime(2028, 2, 29, 9, 0), ROME)
    assert [d.date().isoformat() for d in runs(rec, 5)] == [
        "2028-02-29",
        "2029-02-28",
        "2030-02-28",
        "2031-02-28",
        "2032-02-29",
    ]


def test_a_daily_run_keeps_its_wall_time_across_both_daylight_saving_changes():
    rec = Recurrence(1, "days", datetime(2026, 3, 27, 9, 0), ROME)
    days = runs(rec, 4)  # 27, 28, 29 (clocks forward), 30 March
    assert [d.hour for d in days] == [9, 9, 9, 9]
    gaps = [rec.occurrence(k + 1) - rec.occurrence(k) for k in range(3)]
    assert gaps == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]
    autumn = Recurrence(1, "days", datetime(2026, 10, 24, 9, 0), ROME)
    gaps = [autumn.occurrence(k + 1) - autumn.occurrence(k) for k in range(2)]
    assert gaps == [timedelta(hours=25), timedelta(hours=24)]  # 25 October: clocks back


def test_a_time_the_clocks_skip_runs_once_after_the_jump():
    # 29 March 2026 in Rome: 02:00 becomes 03:00, so 02:30 does not exist
    rec = Recurrence(1, "days", datetime(2026, 3, 28, 2, 30), ROME)
    skipped = rec.occurrence(1)
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(skipped, ROME) == datetime(2026, 3, 29, 3, 30)
    assert local(rec.occurrence(2), ROME) == datetime(2026, 3, 30, 2, 30)
    on_the_day = [t for t in (rec.occurrence(k) for k in range(5)) if local(t, ROME).date().day == 29]
    assert len(on_the_day) == 1


def test_a_time_that_happens_twice_runs_once_the_first_time():
    # 1 November 2026 in New York: 01:00-02:00 happens twice (EDT, then EST)
    rec = Recurrence(1, "days", datetime(2026, 10, 31, 1, 30), NEW_YORK)
    twice = rec.occurrence(1)
    assert twice == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of the two
    day = [rec.occurrence(k) for k in range(4)]
    assert sum(1 for t in day if local(t, NEW_YORK).date().day == 1) == 1
    assert rec.next_after(twice) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST next day


def test_minutes_keep_real_minutes_apart_through_the_changes():
    spring = Recurrence(30, "minutes", datetime(2026, 3, 29, 1, 0), ROME)
    times = [spring.occurrence(k) for k in range(4)]
    assert [local(t, ROME).strftime("%H:%M") for t in times] == ["01:00", "01:30", "03:00", "03:30"]
    autumn = Recurrence(60, "minutes", datetime(2026, 10, 25, 0, 0), ROME)
    day = [t for t in (autumn.occurrence(k) for k in range(30)) if local(t, ROME).date().day == 25]
    assert len(day) == 25  # the day has 25 hours


def test_weekly_runs_and_next_after():
    rec = Recurrence(2, "weeks", datetime(2026, 1, 5, 7, 0), ROME)  # every other Monday
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    nxt = rec.next_after(now)
    assert local(nxt, ROME) == datetime(2026, 2, 2, 7, 0)
    assert rec.next_after(nxt) > nxt
    assert rec.next_after(datetime(2025, 1, 1, tzinfo=UTC)) == rec.start_utc
    assert rec.first_at_or_after(rec.start_utc) == rec.start_utc


def test_after_a_long_stop_the_next_run_is_in_the_future_not_the_missed_ones():
    rec = Recurrence(15, "minutes", datetime(2026, 5, 1, 0, 0), ROME)
    last_due = rec.occurrence(10)
    back_up = last_due + timedelta(days=3, minutes=7)  # the daemon was down three days
    nxt = rec.next_after(back_up)
    assert back_up < nxt <= back_up + timedelta(minutes=15)
    assert (nxt - rec.start_utc) % timedelta(minutes=15) == timedelta()


def test_interval_before_and_previous():
    rec = Recurrence(1, "months", datetime(2026, 1, 31, 8, 0), ROME)
    march = rec.occurrence(2)
    assert rec.previous_before(march) == rec.occurrence(1)
    assert rec.interval_before(march) == rec.occurrence(2) - rec.occurrence(1)
    assert rec.previous_before(rec.start_utc) is None


@pytest.mark.parametrize(
    ("every", "unit", "zone", "message"),
    [
        (0, "days", ROME, "at least 1"),
        (1, "fortnights", ROME, "must be one of"),
        (1, "days", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_bad_recurrences_say_what_is_wrong(every, unit, zone, message):
    with pytest.raises(RecurrenceError, match=message):
        Recurrence(every, unit, datetime(2026, 1, 1, 8, 0), zone)


def test_parse_start():
    assert parse_start("2026-01-31 08:00") == datetime(2026, 1, 31, 8, 0)
    with pytest.raises(RecurrenceError, match="must look like"):
        parse_start("31/01/2026")
