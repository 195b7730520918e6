"""Each alarm type fires on calls made to trip it and stays silent on calls made not to.

Calls are published into the lake with the pipeline's own atomic writer (tests/lock_data.py); the
alarms read them through the owner's scoped `calls` view.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

import warehouse
from tests.lock_data import staff, write_calls
from warehouse import appdb, mail, schedules
from warehouse.access import load_principal
from warehouse.alarms import AlarmError, Context, evaluate
from warehouse.config import load_settings
from warehouse.schedules import ScheduleSpec

CONFIG = """
[company]
name = "Test Company"
time_zone = "Europe/Rome"
currency = "EUR"

[[sites]]
name = "Milano"
country = "IT"
time_zone = "Europe/Rome"
internal_ranges = ["2000-2999"]

[[sites]]
name = "New York"
country = "US"
time_zone = "America/New_York"
internal_ranges = ["6000-6999"]
"""


def rome(*args: int) -> datetime:
    """A wall-clock time in Rome as a UTC instant (March 2026 is UTC+1 before the 29th)."""
    import zoneinfo

    return datetime(*args, tzinfo=zoneinfo.ZoneInfo("Europe/Rome")).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def company(home):
    (home / "ringledger.toml").write_text(CONFIG)
    settings = load_settings()
    engine = staff(settings)
    return settings, engine


def check(settings, engine, owner, key, options, *, now, start=None, end=None, state=None):
    principal = load_principal(engine, owner)
    principal = dataclasses.replace(principal, time_zone="Europe/Rome", language="en")
    end = end or now - timedelta(minutes=5)
    ctx = Context(
        settings=settings,
        engine=engine,
        principal=principal,
        language="en",
        zone="Europe/Rome",
        now=now,
        window_start=start or end - timedelta(days=1),
        window_end=end,
        state=state or {},
        con=warehouse.connect(settings),
    )
    return evaluate(ctx, key, options)


def column(finding, key):
    i = [c.key for c in finding.columns].index(key)
    return [r[i] for r in finding.rows]


MONDAY = (2026, 3, 2)


def test_l1_outside_working_hours_in_each_sites_zone(company):
    settings, engine = company
    late_milano = rome(*MONDAY, 20, 30)
    write_calls(
        settings,
        [
            {"extension": "2001", "site": "Milano", "started_at": late_milano, "other_number": "00390212345678"},
            {"extension": "2002", "site": "Milano", "started_at": rome(*MONDAY, 10, 0)},
            # 22:00 UTC is 23:00 in Milano but 17:00 in New York: inside New York's hours
            {"extension": "2003", "site": "New York", "started_at": datetime(*MONDAY, 22, 0, tzinfo=UTC)},
            {"extension": "2002", "site": "Milano", "started_at": rome(*MONDAY, 12, 0), "direction": "incoming"},
        ],
    )
    now = rome(2026, 3, 3, 8, 0)
    found = check(settings, engine, "maria", "outside_hours", {}, now=now)
    assert found.tripped
    assert column(found, "extension") == ["2001"]
    assert column(found, "other_number") == ["00390212345***"]  # masked for the owner's role
    assert found.summary == "1 call outside working hours"
    # Saturday hours for New York only, and a holiday in Milano
    silent = check(
        settings,
        engine,
        "maria",
        "outside_hours",
        {"default_hours": {"days": [1, 2, 3, 4, 5], "start": "08:00", "end": "21:00"}},
        now=now,
    )
    assert not silent.tripped
    holiday = check(settings, engine, "maria", "outside_hours", {"closed_dates": ["2026-03-02"]}, now=now)
    assert sorted(column(holiday, "extension")) == ["2001", "2002", "2003"]  # a holiday is outside hours everywhere
    new_york_late = check(
        settings,
        engine,
        "maria",
        "outside_hours",
        {"site_hours": [{"site": "New York", "days": [1, 2, 3, 4, 5], "start": "08:00", "end": "16:00"}]},
        now=now,
    )
    assert sorted(column(new_york_late, "extension")) == ["2001", "2003"]


def test_l1_counts_only_the_calls_of_the_window(company):
    settings, engine = company
    write_calls(settings, [{"extension": "2001", "site": "Milano", "started_at": rome(*MONDAY, 22, 0)}])
    now = rome(2026, 3, 3, 8, 0)
    assert check(settings, engine, "maria", "outside_hours", {}, now=now, start=rome(*MONDAY, 21, 0)).tripped
    assert not check(settings, engine, "maria", "outside_hours", {}, now=now, start=rome(*MONDAY, 23, 0)).tripped


def test_l2_forbidden_prefixes_and_numbers(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    write_calls(
        settings,
        [
            {"extension": "2001", "started_at": when, "other_number": "00899123456", "destination_type": "premium"},
            {"extension": "2002", "started_at": when, "other_number": "0612345678", "e164": "+390612345678"},
            {"extension": "2003", "started_at": when, "other_number": "0212345678", "e164": "+390212345678"},
        ],
    )
    now = rome(*MONDAY, 11, 0)
    found = check(
        settings,
        engine,
        "maria",
        "forbidden_numbers",
        {"prefixes": ["00 899"], "numbers": ["+39 06 1234 5678"]},
        now=now,
    )
    assert sorted(column(found, "extension")) == ["2001", "2002"]
    entries = dict(zip(column(found, "extension"), column(found, "pattern"), strict=True))
    assert entries["2001"] == "00899"  # a prefix is shown as it is
    assert entries["2002"] == "+390612345***"  # a whole number is masked like any number
    silent = check(settings, engine, "maria", "forbidden_numbers", {"prefixes": ["00881"]}, now=now)
    assert not silent.tripped
    with pytest.raises(ValueError, match="at least one forbidden number or prefix"):
        check(settings, engine, "maria", "forbidden_numbers", {}, now=now)


def test_l3_spending_per_user_and_per_department_once_per_period(company):
    settings, engine = company
    write_calls(
        settings,
        [
            {"extension": "2001", "started_at": rome(2026, 3, 2, 10), "cost": Decimal("60")},
            {"extension": "2001", "started_at": rome(2026, 3, 9, 10), "cost": Decimal("50")},
            {"extension": "2002", "started_at": rome(2026, 3, 9, 11), "cost": Decimal("20")},
            {"extension": "2003", "started_at": rome(2026, 3, 9, 12), "cost": Decimal("99")},
            {"extension": "2001", "started_at": rome(2026, 2, 20, 10), "cost": Decimal("500")},  # last month
        ],
    )
    now = rome(2026, 3, 10, 9, 0)
    found = check(settings, engine, "maria", "spending", {"group_by": "user", "threshold": "100"}, now=now)
    assert column(found, "subject") == ["anna"]
    assert column(found, "cost") == [Decimal("110")]
    again = check(
        settings, engine, "maria", "spending", {"group_by": "user", "threshold": "100"}, now=now, state=found.state
    )
    assert not again.tripped  # reported once this month
    repeat = check(
        settings,
        engine,
        "maria",
        "spending",
        {"group_by": "user", "threshold": "100", "repeat": True},
        now=now,
        state=found.state,
    )
    assert repeat.tripped
    departments = check(settings, engine, "maria", "spending", {"group_by": "department", "threshold": "120"}, now=now)
    assert column(departments, "subject") == ["Sales"]  # 130 against Support's 99
    weekly = check(settings, engine, "maria", "spending", {"threshold": "100", "period": "this_week"}, now=now)
    assert not weekly.tripped  # 50 this week


def test_l4_missed_calls_per_extension_and_for_a_list(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    missed = {"direction": "incoming", "answered": False, "missed": True, "duration_s": 0}
    write_calls(
        settings,
        [{"extension": "2001", "started_at": when + timedelta(minutes=i), **missed} for i in range(3)]
        + [{"extension": "2002", "started_at": when, **missed}, {"extension": "2002", "started_at": when}],
    )
    now = rome(*MONDAY, 11, 0)
    found = check(settings, engine, "maria", "missed_calls", {"threshold": 3}, now=now)
    assert column(found, "target") == ["2001"]
    assert column(found, "missed_calls") == [3]
    assert not check(settings, engine, "maria", "missed_calls", {"threshold": 4}, now=now).tripped
    group = check(
        settings,
        engine,
        "maria",
        "missed_calls",
        {"threshold": 4, "extensions": ["2001", "2002"], "together": True},
        now=now,
    )
    assert column(group, "target") == ["2001, 2002"]
    assert not check(
        settings, engine, "maria", "missed_calls", {"threshold": 2, "extensions": ["2002"]}, now=now
    ).tripped


def test_l5_international_calls_optionally_per_site(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    write_calls(
        settings,
        [
            {
                "extension": "2001",
                "site": "Milano",
                "started_at": when,
                "destination_type": "international",
                "other_number": "0044207946012",
                "nation": "GB",
            },
            {"extension": "2002", "site": "Milano", "started_at": when, "destination_type": "national"},
        ],
    )
    now = rome(*MONDAY, 11, 0)
    found = check(settings, engine, "maria", "international", {}, now=now)
    assert column(found, "extension") == ["2001"]
    assert column(found, "nation") == ["GB"]
    assert not check(settings, engine, "maria", "international", {"sites": ["New York"]}, now=now).tripped


def test_l6_feed_silent_during_working_hours_only(company):
    settings, engine = company
    write_calls(settings, [{"extension": "2001", "cluster": "CL1", "started_at": rome(*MONDAY, 9, 0)}])
    options = {"silent_minutes": 30}
    fired = check(settings, engine, "root", "feed_silent", options, now=rome(*MONDAY, 10, 0))
    assert column(fired, "cluster") == ["CL1"]
    assert column(fired, "silent_s") == [3600]
    assert not check(settings, engine, "root", "feed_silent", options, now=rome(*MONDAY, 9, 20)).tripped
    assert not check(settings, engine, "root", "feed_silent", options, now=rome(2026, 3, 7, 11, 0)).tripped  # Saturday
    # the same silence is reported once
    again = check(settings, engine, "root", "feed_silent", options, now=rome(*MONDAY, 10, 30), state=fired.state)
    assert not again.tripped
    with pytest.raises(AlarmError, match="administrator"):
        check(settings, engine, "maria", "feed_silent", options, now=rome(*MONDAY, 10, 0))


def test_l6_counts_only_working_minutes_of_the_silence(company):
    settings, engine = company
    friday_evening = rome(2026, 2, 27, 17, 50)
    write_calls(settings, [{"extension": "2001", "cluster": "CL1", "started_at": friday_evening}])
    # Monday 08:10: 10 working minutes on Friday and 10 on Monday
    assert not check(settings, engine, "root", "feed_silent", {"silent_minutes": 30}, now=rome(*MONDAY, 8, 10)).tripped
    assert check(settings, engine, "root", "feed_silent", {"silent_minutes": 30}, now=rome(*MONDAY, 8, 25)).tripped


def test_l7_at_least_n_calls_to_unrecognised_destinations(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    write_calls(
        settings,
        [
            {"extension": "2001", "started_at": when, "destination_type": "unknown", "other_number": "0077712345"},
            {
                "extension": "2002",
                "started_at": when,
                "destination_type": "national",
                "cost": None,
                "rate_ref": "unrated: unknown destination 0098",
            },
            {"extension": "2003", "started_at": when, "destination_type": "national", "rate_ref": "plan A: 0039"},
        ],
    )
    now = rome(*MONDAY, 11, 0)
    found = check(settings, engine, "maria", "unknown_destinations", {"min_calls": 2}, now=now)
    assert sorted(column(found, "extension")) == ["2001", "2002"]
    assert not check(settings, engine, "maria", "unknown_destinations", {"min_calls": 3}, now=now).tripped


def test_l8_extensions_not_in_the_directory(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    write_calls(settings, [{"extension": "2001", "started_at": when}])
    now = rome(*MONDAY, 11, 0)
    assert not check(settings, engine, "root", "unknown_extensions", {}, now=now).tripped
    write_calls(settings, [{"extension": "2050", "started_at": when, "site": "Milano"}])
    found = check(settings, engine, "root", "unknown_extensions", {}, now=now)
    assert column(found, "extension") == ["2050"]
    with pytest.raises(AlarmError, match="administrator"):
        check(settings, engine, "maria", "unknown_extensions", {}, now=now)


def test_call_quality_per_gateway_with_a_minimum_of_calls(company):
    settings, engine = company
    when = rome(*MONDAY, 10, 0)
    poor = [
        {
            "extension": "2001",
            "started_at": when + timedelta(minutes=i),
            "gateway": "GW-A",
            "mos": 3.0,
            "packet_loss_pct": 0.4,
        }
        for i in range(6)
    ]
    good = [
        {
            "extension": "2002",
            "started_at": when + timedelta(minutes=i),
            "gateway": "GW-B",
            "mos": 4.3,
            "packet_loss_pct": 0.0,
        }
        for i in range(6)
    ]
    write_calls(settings, poor + good)
    now = rome(*MONDAY, 10, 30)
    options = {"min_calls": 5, "mos_below": 3.6, "window_minutes": 60}
    found = check(settings, engine, "maria", "call_quality", options, now=now)
    assert column(found, "target") == ["GW-A"]
    assert column(found, "avg_mos") == [Decimal("3.0")]
    assert not check(settings, engine, "maria", "call_quality", {**options, "min_calls": 7}, now=now).tripped
    lossy = check(
        settings, engine, "maria", "call_quality", {**options, "mos_below": 2.5, "loss_above_pct": 0.3}, now=now
    )
    assert column(lossy, "target") == ["GW-A"]


def test_anomaly_against_the_same_hour_of_previous_weeks(company):
    settings, engine = company
    calls = []
    for week in range(1, 5):
        base = rome(*MONDAY, 10, 0) - timedelta(weeks=week)
        calls.append({"extension": "2001", "started_at": base + timedelta(minutes=5), "cost": Decimal("1")})
        calls += [
            {"extension": "2002", "started_at": base + timedelta(minutes=m), "cost": Decimal("1")} for m in (1, 2, 3)
        ]
    now_hour = rome(*MONDAY, 10, 0)
    calls += [
        {"extension": "2001", "started_at": now_hour + timedelta(minutes=m), "cost": Decimal("1")} for m in range(12)
    ]
    calls += [
        {"extension": "2002", "started_at": now_hour + timedelta(minutes=m), "cost": Decimal("1")} for m in range(4)
    ]
    # the same extension busy at another hour does not count
    calls += [{"extension": "2002", "started_at": rome(*MONDAY, 8, m), "cost": Decimal("1")} for m in range(20)]
    write_calls(settings, calls)
    now = rome(*MONDAY, 11, 7)  # judges 10:00-11:00
    found = check(settings, engine, "maria", "anomaly", {"weeks": 4, "min_extra_calls": 5}, now=now)
    assert column(found, "target") == ["2001"]
    assert column(found, "calls") == [12]
    assert column(found, "calls_median") == [Decimal("1.0")]
    again = check(settings, engine, "maria", "anomaly", {"weeks": 4, "min_extra_calls": 5}, now=now, state=found.state)
    assert not again.tripped  # each hour is judged once
    quiet = check(settings, engine, "maria", "anomaly", {"min_extra_calls": 15, "min_extra_cost": "15"}, now=now)
    assert not quiet.tripped
    centres = check(settings, engine, "maria", "anomaly", {"group_by": "cost_centre", "min_extra_calls": 5}, now=now)
    assert column(centres, "target") == ["CC-100"]


def test_a_scheduled_alarm_mails_what_tripped_with_an_excel_file(company):
    settings, engine = company
    write_calls(
        settings,
        [
            {
                "extension": "2001",
                "started_at": datetime.now(UTC) - timedelta(minutes=30),
                "destination_type": "international",
                "other_number": "0044207946012",
            },
        ],
    )
    root = load_principal(engine, "root")
    now = datetime.now(UTC)
    item = schedules.save_schedule(
        settings,
        engine,
        root,
        ScheduleSpec(
            kind="alarm",
            type="international",
            recipients="ops@example.org, Anna Berg <anna@example.org>",
            every=1,
            unit="days",
            start_local=datetime(2026, 1, 1, 0, 0),
            format="xlsx",
            body="Please check these calls.",
        ),
        now=now - timedelta(hours=2),
    )
    with engine.begin() as conn:  # due now; its first window looks back one day
        conn.execute(schedules.schedule.update().values(next_run_at=now - timedelta(minutes=1)))
    [outcome] = schedules.run_due(settings, engine, now=now)
    assert outcome.status == schedules.SENT
    assert outcome.count == 1
    msg = mail.read_eml(mail.outbox_files(settings)[0])
    assert msg["Subject"] == "International calls: 1 international call"
    text = msg.get_body(("plain",)).get_content()
    assert "Please check these calls." in text
    assert "0044207946***" in text
    assert "0044207946012" not in text
    att = next(msg.iter_attachments())
    sheet = openpyxl.load_workbook(io.BytesIO(att.get_content())).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "0044207946***" in values
    stored = schedules.get_schedule(engine, item.id)
    assert stored.last_status == schedules.SENT
    assert stored.next_run_at > now
    # nothing new since: the next run sends nothing
    with engine.begin() as conn:
        conn.execute(schedules.schedule.update().values(next_run_at=now))
    [quiet] = schedules.run_due(settings, engine, now=now + timedelta(minutes=1))
    assert quiet.status == schedules.EMPTY
    assert len(mail.outbox_files(settings)) == 1


def test_alarms_belong_to_supervisors_and_administrators(company):
    settings, engine = company
    spec = ScheduleSpec(
        kind="alarm",
        type="international",
        recipients="a@example.org",
        every=1,
        unit="days",
        start_local=datetime(2026, 1, 1, 8, 0),
    )
    with pytest.raises(schedules.ScheduleError, match="supervisors and administrators"):
        schedules.save_schedule(settings, engine, load_principal(engine, "anna"), spec)
    with pytest.raises(schedules.ScheduleError, match="must be an administrator"):
        schedules.save_schedule(
            settings, engine, load_principal(engine, "maria"), dataclasses.replace(spec, type="unknown_extensions")
        )
    assert appdb.open_db(settings) is engine


def test_the_anomaly_baseline_keeps_local_hours_across_daylight_saving():
    from warehouse.alarms.checks import anomaly_windows

    # Monday 30 March 2026, 10:00-11:00 in Rome (summer time) against the Mondays before (winter time)
    windows = anomaly_windows("Europe/Rome", datetime(2026, 3, 30, 9, 7, tzinfo=UTC), hours=1, weeks=2)
    assert [(w, s.isoformat(), e.isoformat()) for w, s, e in windows] == [
        (0, "2026-03-30T08:00:00+00:00", "2026-03-30T09:00:00+00:00"),
        (1, "2026-03-23T09:00:00+00:00", "2026-03-23T10:00:00+00:00"),
        (2, "2026-03-16T09:00:00+00:00", "2026-03-16T10:00:00+00:00"),
    ]


def test_an_alarm_missed_while_stopped_covers_the_whole_gap_once(company):
    settings, engine = company
    now = datetime.now(UTC).replace(microsecond=0)
    gap = [now - timedelta(days=d, hours=1) for d in (3, 2, 1)]
    write_calls(
        settings,
        [{"extension": "2001", "started_at": t, "destination_type": "international"} for t in gap]
        + [{"extension": "2002", "started_at": now - timedelta(days=5), "destination_type": "international"}],
    )
    item = schedules.save_schedule(
        settings,
        engine,
        load_principal(engine, "maria"),
        ScheduleSpec(
            kind="alarm",
            type="international",
            recipients="maria@example.org",
            every=1,
            unit="days",
            start_local=datetime(2026, 1, 1, 0, 0),
        ),
    )
    with engine.begin() as conn:  # last run four days ago, then the pipelines stopped
        conn.execute(
            schedules.schedule.update().values(
                next_run_at=now - timedelta(days=3),
                state='{"window_end": "' + (now - timedelta(days=4)).isoformat() + '"}',
            )
        )
    [outcome] = schedules.run_due(settings, engine, now=now)
    assert outcome.count == 3  # the three calls of the gap, not the one before it
    assert schedules.run_due(settings, engine, now=now) == []
    assert len(mail.outbox_files(settings)) == 1
    assert schedules.runs(engine, item.id)[0].window_start == now - timedelta(days=4)
