"""Budgets: periods in local time, spend, carry-over, threshold mails once each, locks and unlocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.lock_data import staff, write_calls
from warehouse import budgets, phonelock
from warehouse.access import load_principal
from warehouse.appdb import audit_log
from warehouse.config import load_settings

pytestmark = pytest.mark.app_databases

ROME = ZoneInfo("Europe/Rome")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=ROME)


def configure(home, text: str = ""):
    (home / "ringledger.toml").write_text('[company]\ncurrency = "EUR"\ntime_zone = "Europe/Rome"\n' + text)
    return load_settings()


def smtp_config(server) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'


def admin(engine):
    return load_principal(engine, "root")


def call(ext: str, when: datetime, cost: str, **extra) -> dict:
    return {"extension": ext, "started_at": when.astimezone(UTC), "cost": Decimal(cost), **extra}


# --- periods -------------------------------------------------------------------------------------


def test_monthly_period_runs_from_local_midnight_across_daylight_saving():
    p = budgets.period_at("monthly", "Europe/Rome", datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert (p.first_day, p.last_day) == (date(2026, 3, 1), date(2026, 3, 31))
    assert p.starts_at == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert p.ends_at == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    # the first instant of April in Rome belongs to April, the last of March to March
    assert budgets.period_at("monthly", "Europe/Rome", p.ends_at).first_day == date(2026, 4, 1)
    assert budgets.period_at("monthly", "Europe/Rome", p.ends_at - timedelta(microseconds=1)).first_day == date(
        2026, 3, 1
    )


def test_weekly_period_in_the_zone_and_week_start():
    # the week in which Rome leaves summer time has 169 hours
    p = budgets.period_at("weekly", "Europe/Rome", datetime(2026, 10, 22, 10, tzinfo=UTC))
    assert (p.first_day, p.last_day) == (date(2026, 10, 19), date(2026, 10, 25))
    assert p.ends_at - p.starts_at == timedelta(hours=169)
    # a Sunday evening in New York is already Monday in UTC; weeks starting on Sunday
    sunday_night = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # Sun 4 Jan 21:00 in New York
    ny = budgets.period_at("weekly", "America/New_York", sunday_night, "sunday")
    assert ny.first_day == date(2026, 1, 4)
    assert ny.starts_at == datetime(2026, 1, 4, 5, 0, tzinfo=UTC)
    assert budgets.period_at("monthly", "America/New_York", sunday_night).first_day == date(2026, 1, 1)


# --- thresholds, mail, locks --------------------------------------------------------------------------


def test_thresholds_mail_the_person_and_manager_once_each_and_the_budget_locks_the_phone(home, smtp_server):
    settings = configure(home, smtp_config(smtp_server))
    engine = staff(settings)
    bid = budgets.assign_budget(settings, engine, admin(engine), "user", "anna", "monthly", "10.00")
    write_calls(settings, [call("2001", local(2026, 1, 5, 9), "5.00"), call("2002", local(2026, 1, 5, 9), "50")])
    report = budgets.evaluate(settings, engine, now=local(2026, 1, 5, 10))
    assert report.notifications == 0
    assert smtp_server.messages == []
    assert not phonelock.lock_state(engine, "2001").locked

    write_calls(settings, [call("2001", local(2026, 1, 6, 9), "3.50")])  # 8.50 of 10: 85%
    budgets.evaluate(settings, engine, now=local(2026, 1, 6, 10))
    assert len(smtp_server.messages) == 2
    by_rcpt = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert set(by_rcpt) == {"anna@example.org", "maria@example.org"}
    assert by_rcpt["anna@example.org"]["Subject"] == "Personal budget: 80% of the budget used"
    # the manager reads German, and learns whom it is about
    assert by_rcpt["maria@example.org"]["Subject"] == "Persönliches Budget: 80 % des Budgets verbraucht"
    assert "Anna Berg" in by_rcpt["maria@example.org"].get_body(("plain",)).get_content()
    assert "8,50\xa0€" in by_rcpt["maria@example.org"].get_body(("plain",)).get_content()
    assert not phonelock.lock_state(engine, "2001").locked

    budgets.evaluate(settings, engine, now=local(2026, 1, 6, 11))  # nothing new: no second mail
    assert len(smtp_server.messages) == 2

    write_calls(settings, [call("2001", local(2026, 1, 7, 9), "2.00")])  # 10.50 of 10
    report = budgets.evaluate(settings, engine, now=local(2026, 1, 7, 10))
    assert report.locked == ["2001"]
    state = phonelock.lock_state(engine, "2001")
    assert state.locked
    assert state.budget_ids == (bid,)
    assert not state.user_locked
    assert len(smtp_server.messages) == 4
    spent_mail = next(m.message for m in smtp_server.messages[2:] if m.rcpt_tos == ["anna@example.org"])
    assert spent_mail["Subject"] == "Personal budget: budget spent, phone locked"
    assert "emergency numbers still work" in spent_mail.get_body(("plain",)).get_content()

    budgets.evaluate(settings, engine, now=local(2026, 1, 20))
    assert len(smtp_server.messages) == 4

    # the new period starts: the lock goes, thresholds count afresh
    report = budgets.evaluate(settings, engine, now=local(2026, 2, 1, 0, 1))
    assert report.unlocked == ["2001"]
    assert not phonelock.lock_state(engine, "2001").locked
    kinds = [e.kind for e in budgets.budget_history(settings, engine, admin(engine), bid)]
    assert kinds.count("notification") == 2
    assert kinds.count("lock") == 1
    assert kinds.count("unlock") == 1


def test_carry_over_adds_the_residual_and_never_a_deficit(home):
    settings = configure(home)
    engine = staff(settings)
    actor = admin(engine)
    carry = budgets.assign_budget(settings, engine, actor, "user", "anna", "monthly", "100", carry_over=True)
    budgets.assign_budget(settings, engine, actor, "user", "bruno", "monthly", "100")
    write_calls(
        settings,
        [
            call("2001", local(2026, 1, 10, 9), "30.00"),
            call("2002", local(2026, 1, 10, 9), "30.00"),
            # 23:55 on 31 January in Rome (22:55 UTC): still January
            call("2001", local(2026, 1, 31, 23, 55), "0.25"),
        ],
    )
    budgets.evaluate(settings, engine, now=local(2026, 1, 31, 12))
    # one minute into February the lock logic moves on, but January is not closed yet (late CDRs)
    budgets.evaluate(settings, engine, now=local(2026, 2, 1, 0, 1))
    anna = {
        s.budget.id: s
        for s in budgets.my_budgets(settings, engine, load_principal(engine, "anna"), now=local(2026, 2, 1, 0, 1))
    }
    assert anna[carry].allowance == Decimal("100")
    budgets.evaluate(settings, engine, now=local(2026, 2, 1, 0, 20))
    feb = budgets.my_budgets(settings, engine, load_principal(engine, "anna"), now=local(2026, 2, 2))[0]
    assert (feb.carried_in, feb.allowance) == (Decimal("69.75"), Decimal("169.75"))
    other = budgets.my_budgets(settings, engine, load_principal(engine, "bruno"), now=local(2026, 2, 2))[0]
    assert (other.carried_in, other.allowance) == (Decimal("0"), Decimal("100"))
    # February overspent: nothing negative reaches March
    write_calls(settings, [call("2001", local(2026, 2, 10, 9), "200.00")])
    budgets.evaluate(settings, engine, now=local(2026, 2, 11))
    assert phonelock.lock_state(engine, "2001").budget_locked
    budgets.evaluate(settings, engine, now=local(2026, 3, 1, 1))
    march = budgets.my_budgets(settings, engine, load_principal(engine, "anna"), now=local(2026, 3, 2))[0]
    assert (march.carried_in, march.allowance, march.spent) == (Decimal("0"), Decimal("100"), Decimal("0"))
    assert not phonelock.lock_state(engine, "2001").locked
    events = budgets.budget_history(settings, engine, actor, carry)
    carried = [e for e in events if e.kind == "carry_over"]
    assert [e.amount for e in carried] == [Decimal("69.75")]
    ends = [e.amount for e in events if e.kind == "period_end"]
    assert sorted(ends) == [Decimal("30.25"), Decimal("200")]


def test_department_budget_adds_its_people_and_locks_all_their_phones(home, smtp_server):
    settings = configure(home, smtp_config(smtp_server))
    engine = staff(settings)
    bid = budgets.assign_budget(
        settings, engine, admin(engine), "department", "Sales", "weekly", "20", thresholds=[50, 100]
    )
    write_calls(
        settings,
        [
            call("2001", local(2026, 1, 5, 9), "6"),  # Monday
            call("2002", local(2026, 1, 6, 9), "6"),
            call("2003", local(2026, 1, 6, 9), "99"),  # Support: not Sales
            call("2001", local(2026, 1, 4, 9), "99"),  # the Sunday before: last week
        ],
    )
    budgets.evaluate(settings, engine, now=local(2026, 1, 6, 12))
    assert [m.rcpt_tos for m in smtp_server.messages] == [["maria@example.org"]]  # 60%: the managers only
    write_calls(settings, [call("2002", local(2026, 1, 7, 9), "8")])
    report = budgets.evaluate(settings, engine, now=local(2026, 1, 7, 12))
    assert sorted(report.locked) == ["2001", "2002"]
    assert not phonelock.lock_state(engine, "2003").locked
    # spent: the people are told too
    assert sorted(r for m in smtp_server.messages[1:] for r in m.rcpt_tos) == [
        "anna@example.org",
        "bruno@example.org",
        "maria@example.org",
    ]
    bruno_mail = next(m.message for m in smtp_server.messages if m.rcpt_tos == ["bruno@example.org"])
    assert bruno_mail["Subject"] == "Reparto Sales: budget esaurito, telefono bloccato"
    # Monday next week: unlocked
    budgets.evaluate(settings, engine, now=local(2026, 1, 12, 0, 5))
    assert not phonelock.lock_state(engine, "2001").locked
    assert not phonelock.lock_state(engine, "2002").locked
    # a raise of the amount mid-period lifts the lock at once
    write_calls(settings, [call("2001", local(2026, 1, 12, 9), "25")])
    budgets.evaluate(settings, engine, now=local(2026, 1, 12, 10))
    assert phonelock.lock_state(engine, "2001").budget_locked
    budgets.assign_budget(settings, engine, admin(engine), "department", "Sales", "weekly", "50")
    budgets.evaluate(settings, engine, now=local(2026, 1, 12, 11))
    assert not phonelock.lock_state(engine, "2001").locked
    assert budgets.budgets(engine)[0].id == bid  # the same budget, changed


def test_removing_a_budget_releases_its_phones_and_a_user_lock_stays(home):
    settings = configure(home)
    engine = staff(settings)
    anna = load_principal(engine, "anna")
    bid = budgets.assign_budget(settings, engine, admin(engine), "user", "anna", "monthly", "1")
    write_calls(settings, [call("2001", local(2026, 1, 5, 9), "2")])
    budgets.evaluate(settings, engine, now=local(2026, 1, 5, 10))
    phonelock.set_user_lock(settings, engine, anna, True)
    budgets.remove_budget(settings, engine, admin(engine), bid)
    state = phonelock.lock_state(engine, "2001")
    assert state.user_locked
    assert not state.budget_locked
    assert budgets.budgets(engine) == []
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(audit_log.c.action))]
    assert "budget.assign" in actions
    assert "budget.remove" in actions
    assert "phone.user_lock" in actions


def test_my_budgets_and_history_show_only_what_the_person_may_see(home):
    settings = configure(home)
    engine = staff(settings)
    actor = admin(engine)
    own = budgets.assign_budget(settings, engine, actor, "user", "anna", "monthly", "10")
    dept = budgets.assign_budget(settings, engine, actor, "department", "Sales", "monthly", "15")
    other = budgets.assign_budget(settings, engine, actor, "user", "carla", "monthly", "10")
    write_calls(settings, [call("2001", local(2026, 1, 5, 9), "4"), call("2002", local(2026, 1, 5, 9), "12")])
    budgets.evaluate(settings, engine, now=local(2026, 1, 5, 10))
    anna = load_principal(engine, "anna")
    mine = {s.budget.id: s for s in budgets.my_budgets(settings, engine, anna, now=local(2026, 1, 5, 11))}
    assert set(mine) == {own, dept}
    assert (mine[own].spent, mine[own].remaining, mine[own].until) == (Decimal("4"), Decimal("6"), date(2026, 1, 31))
    assert mine[own].name == "Personal budget"
    assert mine[dept].name == "Department Sales"
    assert mine[dept].exhausted
    assert mine[dept].phones["2001"].budget_locked
    history = budgets.budget_history(settings, engine, anna)
    assert {e.budget_id for e in history} == {own, dept}
    # bruno's lock by the department budget is his, not anna's business
    assert all(e.user_id in (None, "anna") for e in history if e.budget_id == dept)
    maria = load_principal(engine, "maria")  # supervisor of everyone: sees carla's budget too
    assert other in {s.budget.id for s in budgets.budget_overview(settings, engine, maria)}
    with pytest.raises(PermissionError):
        budgets.budget_overview(settings, engine, anna)


@pytest.mark.parametrize(
    ("args", "options", "field", "problem"),
    [
        (("user", "nobody", "monthly", "10"), {}, "subject", "no active user"),
        (("department", "Nowhere", "monthly", "10"), {}, "subject", "no active user belongs"),
        (("team", "Sales", "monthly", "10"), {}, "scope", "scope"),
        (("user", "anna", "daily", "10"), {}, "period", "period"),
        (("user", "anna", "monthly", "0"), {}, "amount", "more than zero"),
        (("user", "anna", "monthly", "ten"), {}, "amount", "not a number"),
        (("user", "anna", "monthly", "10"), {"currency": "EU"}, "currency", "3-letter"),
        (("user", "anna", "monthly", "10"), {"thresholds": [0, 100]}, "thresholds", "whole percentage"),
        (("user", "anna", "monthly", "10"), {"time_zone": "Mars/Olympus"}, "time_zone", "unknown time zone"),
    ],
)
def test_budget_assignment_refuses_bad_input_naming_the_field(home, args, options, field, problem):
    settings = configure(home)
    engine = staff(settings)
    with pytest.raises(budgets.BudgetInputError, match=problem) as refused:
        budgets.assign_budget(settings, engine, admin(engine), *args, **options)
    assert refused.value.field == field
    assert isinstance(refused.value, ValueError)
    with pytest.raises(PermissionError):
        budgets.assign_budget(settings, engine, load_principal(engine, "anna"), "user", "anna", "monthly", "10")
    assert budgets.budgets(engine) == []


def test_budget_subjects_are_the_active_people_departments_and_cost_centres(home):
    engine = staff(configure(home))
    assert budgets.budget_subjects(engine, "user")[0] == ("anna", "anna (Anna Berg)")
    assert [v for v, _ in budgets.budget_subjects(engine, "department")] == ["IT", "Management", "Sales", "Support"]
    assert [v for v, _ in budgets.budget_subjects(engine, "cost_centre")] == ["CC-100", "CC-200", "CC-900"]
    with pytest.raises(ValueError, match="scope"):
        budgets.budget_subjects(engine, "team")
