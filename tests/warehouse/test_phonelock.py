"""Phone lock: user, admin and budget locks kept apart; PINs; the administrators' Users list."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.lock_data import staff
from warehouse import enforcement, phonelock
from warehouse.access import load_principal
from warehouse.appdb import audit_log, utcnow

pytestmark = pytest.mark.app_databases


def actions(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [(r.actor, r.action, r.target) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]


def test_an_admin_lock_survives_the_users_unlock(settings):
    engine = staff(settings)
    anna, root = load_principal(engine, "anna"), load_principal(engine, "root")
    phonelock.set_user_lock(settings, engine, anna, True)
    state = phonelock.set_admin_lock(settings, engine, root, "2001", True, reason="lost badge")
    assert state.locked
    assert state.status == "admin"
    assert not state.user_can_unlock
    state = phonelock.set_user_lock(settings, engine, anna, False)["2001"]
    assert state.locked
    assert state.admin_locked
    assert not state.user_locked
    assert phonelock.locked_extensions(engine) == {"2001"}
    assert enforcement.states(engine)["2001"].intended == enforcement.LOCKED
    phonelock.set_admin_lock(settings, engine, root, "2001", False)
    assert not phonelock.lock_state(engine, "2001").locked
    assert enforcement.states(engine)["2001"].applied == enforcement.UNLOCKED
    assert actions(engine) == [
        ("anna", "phone.user_lock", "2001"),
        ("root", "phone.admin_lock", "2001"),
        ("anna", "phone.user_unlock", "2001"),
        ("root", "phone.admin_unlock", "2001"),
    ]


def test_people_may_only_lock_what_is_theirs(settings):
    engine = staff(settings)
    anna, maria = load_principal(engine, "anna"), load_principal(engine, "maria")
    with pytest.raises(PermissionError):
        phonelock.set_user_lock(settings, engine, anna, True, ["2002"])
    with pytest.raises(PermissionError):
        phonelock.set_admin_lock(settings, engine, anna, "2002", True)
    # maria supervises the Sales people (they report to her)
    assert phonelock.set_admin_lock(settings, engine, maria, "2002", True).admin_locked
    with pytest.raises(PermissionError):
        phonelock.set_pin(settings, engine, anna, "bruno", "4826")


def test_pin_lockout_after_repeated_failures_refuses_even_the_right_pin(settings):
    engine = staff(settings)
    root = load_principal(engine, "root")
    phonelock.set_pin(settings, engine, root, "anna", "4826")
    limit = settings.phone_lock.max_pin_failures
    for i in range(limit - 1):
        result = phonelock.verify_pin(settings, engine, "anna", "0000")
        assert (result.ok, result.reason, result.remaining) == (False, "wrong", limit - 1 - i)
    result = phonelock.verify_pin(settings, engine, "anna", "1111")
    assert result.reason == "locked_out"
    assert result.locked_until > utcnow()
    assert phonelock.verify_pin(settings, engine, "anna", "4826").reason == "locked_out"
    assert ("anna", "phone.pin_lockout", "anna") in actions(engine)
    later = utcnow() + timedelta(minutes=settings.phone_lock.pin_lockout_minutes, seconds=1)
    assert phonelock.verify_pin(settings, engine, "anna", "4826", now=later).ok
    # a success clears the count
    assert phonelock.verify_pin(settings, engine, "anna", "0000").remaining == limit - 1


def test_wrong_pins_sent_at_once_cannot_outrun_the_lockout(settings):
    import threading

    engine = staff(settings)
    phonelock.set_pin(settings, engine, load_principal(engine, "root"), "anna", "4826")
    limit = settings.phone_lock.max_pin_failures
    tries = limit * 2
    start = threading.Barrier(tries)
    results: list[phonelock.PinResult] = []

    def guess(n: int) -> None:
        start.wait()
        results.append(phonelock.verify_pin(settings, engine, "anna", f"{1000 + n:04d}"))

    guesses = [threading.Thread(target=guess, args=(n,)) for n in range(tries)]
    for g in guesses:
        g.start()
    for g in guesses:
        g.join(timeout=120)
    assert len(results) == tries
    # every wrong PIN counted: the limit-th locked the phone, and those after it were refused unread
    assert sorted(r.remaining for r in results if r.reason == "wrong") == list(range(1, limit))
    assert sum(r.reason == "locked_out" for r in results) == tries - (limit - 1)
    assert phonelock.verify_pin(settings, engine, "anna", "4826").reason == "locked_out"


def test_pins_are_four_digits_not_trivial_and_stored_as_argon2id(settings):
    engine = staff(settings)
    root = load_principal(engine, "root")
    for bad in ("123", "12345", "12a4"):
        with pytest.raises(ValueError, match="exactly 4 digits"):
            phonelock.set_pin(settings, engine, root, "anna", bad)
    for weak in ("1111", "1234", "9876"):
        with pytest.raises(ValueError, match="sequence"):
            phonelock.set_pin(settings, engine, root, "anna", weak)
    pin = phonelock.reset_pin(settings, engine, root, "anna")
    assert len(pin) == 4
    assert pin.isdigit()
    assert phonelock.pin_problem(settings, pin) is None
    with engine.connect() as conn:
        stored = conn.execute(sa.select(phonelock.phone_pin.c.pin_hash)).scalar()
    assert stored.startswith("$argon2id$")
    assert pin not in stored
    assert phonelock.change_pin(settings, engine, "anna", pin, "5082", "5083").reason == "mismatch"
    assert phonelock.change_pin(settings, engine, "anna", pin, "2222", "2222").reason == "weak"
    assert phonelock.change_pin(settings, engine, "anna", "9999", "5082", "5082").reason == "wrong"
    assert phonelock.change_pin(settings, engine, "anna", pin, "5082", "5082").ok
    assert phonelock.verify_pin(settings, engine, "anna", "5082").ok


def test_users_list_filters_and_shows_status(settings):
    engine = staff(settings)
    root, maria = load_principal(engine, "root"), load_principal(engine, "maria")
    phonelock.set_admin_lock(settings, engine, root, "2002", True)
    phonelock.set_user_lock(settings, engine, load_principal(engine, "carla"), True)
    phonelock.set_pin(settings, engine, root, "anna", "4826")
    everyone = phonelock.list_users(engine, root)
    assert [u.user_id for u in everyone] == ["root", "anna", "bruno", "carla", "maria"]  # by last name
    row = {u.user_id: u for u in everyone}
    assert row["bruno"].status == "admin"
    assert row["bruno"].admin_locked
    assert row["carla"].status == "user"
    assert not row["carla"].admin_locked
    assert row["anna"].has_pin
    assert not row["bruno"].has_pin
    assert [u.user_id for u in phonelock.list_users(engine, root, status="locked")] == ["bruno", "carla"]
    assert [u.user_id for u in phonelock.list_users(engine, root, status="unlocked")] == ["root", "anna", "maria"]
    assert [u.user_id for u in phonelock.list_users(engine, root, name="CONTI")] == ["bruno"]
    assert [u.user_id for u in phonelock.list_users(engine, root, username="ar")] == ["carla", "maria"]
    assert [u.user_id for u in phonelock.list_users(engine, root, extension="2003")] == ["carla"]
    # a supervisor sees the departments of the people who report to them
    assert {u.user_id for u in phonelock.list_users(engine, maria)} == {"anna", "bruno", "carla"}
    with pytest.raises(PermissionError):
        phonelock.list_users(engine, load_principal(engine, "anna"))
