"""Local log-in and sessions: a right password opens a session, a wrong one does not."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from warehouse import appdb, auth
from warehouse.access import set_password
from warehouse.directory import Person, apply

pytestmark = pytest.mark.app_databases


def make_user(settings, user_id="giulia", password="s3cret!"):
    engine = appdb.open_db(settings)
    apply(engine, [Person(username=user_id, display_name="Giulia Rossi", extensions=["2001"])], source="local")
    set_password(engine, user_id, password)
    return engine


def test_right_password_logs_in_and_session_resolves(settings):
    engine = make_user(settings)
    result = auth.login(settings, engine, "giulia", "s3cret!")
    assert result.ok
    assert result.principal.extensions == ("2001",)
    token = auth.start_session(settings, engine, result.principal, "portal")
    assert auth.session_principal(settings, engine, token, "portal").user_id == "giulia"
    assert auth.session_principal(settings, engine, token, "gadget") is None


def test_wrong_password_and_unknown_user_say_the_same(settings):
    engine = make_user(settings)
    wrong = auth.login(settings, engine, "giulia", "nope")
    unknown = auth.login(settings, engine, "nobody", "s3cret!")
    assert not wrong.ok
    assert not unknown.ok
    assert wrong.error == unknown.error


def test_logout_and_expiry_end_the_session(settings):
    engine = make_user(settings)
    principal = auth.login(settings, engine, "giulia", "s3cret!").principal
    token = auth.start_session(settings, engine, principal, "portal")
    auth.end_session(engine, token)
    assert auth.session_principal(settings, engine, token, "portal") is None
    token = auth.start_session(settings, engine, principal, "portal")
    with engine.begin() as conn:
        conn.execute(sa.update(auth.sessions).values(expires_at=appdb.utcnow() - timedelta(seconds=1)))
    assert auth.session_principal(settings, engine, token, "portal") is None


def test_password_is_stored_as_a_salted_slow_hash(settings):
    engine = make_user(settings)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(appdb.users.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$")
    assert "s3cret!" not in stored


def test_wrong_passwords_sent_at_once_lock_the_name_and_every_one_is_counted(settings):
    import threading

    engine = make_user(settings)
    limit = settings.login.max_failures
    start = threading.Barrier(limit * 2)
    results: list[auth.LoginResult] = []

    def guess(n: int) -> None:
        start.wait()
        results.append(auth.login(settings, engine, "giulia", f"guess-{n}"))

    guesses = [threading.Thread(target=guess, args=(n,)) for n in range(limit * 2)]
    for g in guesses:
        g.start()
    for g in guesses:
        g.join(timeout=120)
    assert len(results) == limit * 2
    assert not any(r.ok for r in results)
    assert auth.locked_until(engine, "giulia") is not None
    refused = auth.login(settings, engine, "giulia", "s3cret!")
    assert not refused.ok
    assert refused.error.startswith("Too many failed log-ins")


def test_a_right_password_checked_while_other_attempts_lock_the_name_is_refused(settings, monkeypatch):
    engine = make_user(settings)
    check = auth._authenticate

    def attacked(settings_, engine_, typed, password):
        if password == "s3cret!":
            # while this password is being checked, other attempts at the same name lock it
            for n in range(settings.login.max_failures):
                assert not auth.login(settings, engine, "giulia", f"guess-{n}").ok
        return check(settings_, engine_, typed, password)

    monkeypatch.setattr(auth, "_authenticate", attacked)
    result = auth.login(settings, engine, "giulia", "s3cret!")
    assert not result.ok
    assert result.error.startswith("Too many failed log-ins")
    monkeypatch.setattr(auth, "_authenticate", check)
    # the lock runs out: the right password logs in and the count starts afresh
    with engine.begin() as conn:
        conn.execute(sa.update(auth.login_throttle).values(locked_until=appdb.utcnow() - timedelta(seconds=1)))
    assert auth.login(settings, engine, "giulia", "s3cret!").ok
    assert auth.locked_until(engine, "giulia") is None
    assert not auth.login(settings, engine, "giulia", "wrong").ok
    assert auth.locked_until(engine, "giulia") is None
