"""The gadgets through Flask's test client: log-in, the ${UserID} hint, CSRF, headers, data and languages."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources

import pytest
import sqlalchemy as sa

from warehouse import auth, phonelock
from warehouse.access import load_principal

PASSWORD = "demo"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(client, user: str = "giulia.rossi", password: str = PASSWORD, page: str = "/gadgets/calls"):
    form = client.get(f"/gadgets/login?next={page}")
    resp = client.post(
        "/gadgets/login",
        data={"csrf": csrf_of(form.get_data(as_text=True)), "username": user, "password": password, "next": page},
    )
    return resp


def test_the_user_hint_only_fills_in_the_log_in_form(app):
    client = app.test_client()
    resp = client.get("/gadgets/calls?user=giulia.rossi")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/gadgets/login?")
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'name="username" value="giulia.rossi"' in html
    assert "Giulia Rossi" not in html  # nothing of hers before she logs in
    # a hint Jabber did not substitute is no hint at all
    html = client.get("/gadgets/login?user=${UserID}").get_data(as_text=True)
    assert 'name="username" value=""' in html


def test_log_in_sets_a_safe_cookie_lasting_the_configured_gadget_session(app, gadget_settings):
    client = app.test_client()
    resp = log_in(client)
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/gadgets/calls"
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("rl_gadget="))
    minutes = gadget_settings.sessions.minutes["gadget"]
    assert f"Max-Age={minutes * 60}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/gadgets" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    page = client.get("/gadgets/calls")
    assert page.status_code == 200
    assert "Giulia Rossi" in page.get_data(as_text=True)


def test_the_cookie_is_secure_over_https(app):
    client = app.test_client()
    form = client.get("/gadgets/login", base_url="https://acct.example")
    resp = client.post(
        "/gadgets/login",
        base_url="https://acct.example",
        headers={"Origin": "https://acct.example"},
        data={"csrf": csrf_of(form.get_data(as_text=True)), "username": "giulia.rossi", "password": PASSWORD},
    )
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("rl_gadget="))
    assert "Secure" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app):
    resp = log_in(app.test_client(), password="guess")
    assert resp.status_code == 401
    assert "Unknown user name or wrong password." in resp.get_data(as_text=True)
    assert not any(c.startswith("rl_gadget=") for c in resp.headers.getlist("Set-Cookie"))


def test_log_in_needs_the_form_token_and_our_own_origin(app, engine):
    client = app.test_client()
    form = client.get("/gadgets/login")
    token = csrf_of(form.get_data(as_text=True))
    creds = {"username": "giulia.rossi", "password": PASSWORD}
    assert client.post("/gadgets/login", data=creds).status_code == 403
    assert client.post("/gadgets/login", data={**creds, "csrf": "0" * 64}).status_code == 403
    evil = client.post("/gadgets/login", data={**creds, "csrf": token}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    cross = client.post("/gadgets/login", data={**creds, "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert client.post("/gadgets/login", data={**creds, "csrf": token}).status_code == 303


def test_a_session_is_not_reused_for_another_users_hint(app):
    client = app.test_client()
    log_in(client)
    resp = client.get("/gadgets/calls?user=james.carter")
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "You are logged in as Giulia Rossi, but this tab is for james.carter." in html
    assert 'name="username" value="james.carter"' in html
    # her own hint (user name or mail address) opens her page
    assert client.get("/gadgets/calls?user=giulia.rossi").status_code == 200
    assert client.get("/gadgets/calls?user=Giulia@Ravello.example").status_code == 200
    # logging in as James replaces her session
    form = client.get("/gadgets/login?user=james.carter&next=/gadgets/calls")
    resp = client.post(
        "/gadgets/login",
        data={"csrf": csrf_of(form.get_data(as_text=True)), "username": "james.carter", "password": PASSWORD},
    )
    assert resp.status_code == 303
    assert "James Carter" in client.get("/gadgets/calls?user=james.carter").get_data(as_text=True)


def test_after_log_in_the_browser_only_goes_to_a_gadget(app):
    client = app.test_client()
    form = client.get("/gadgets/login")
    resp = client.post(
        "/gadgets/login",
        data={
            "csrf": csrf_of(form.get_data(as_text=True)),
            "username": "giulia.rossi",
            "password": PASSWORD,
            "next": "https://evil.example/gadgets/calls",
        },
    )
    assert resp.headers["Location"] == "/gadgets/calls"


def test_call_analytics_shows_my_calls_masked_and_not_a_colleagues(app):
    client = app.test_client()
    log_in(client)
    html = client.get("/gadgets/calls").get_data(as_text=True)
    assert "00212345***" in html  # Giulia's outgoing call, masked
    assert "00212345678" not in html
    assert "0298765***" in html  # her incoming call
    assert "00287654" not in html  # Marco's call
    assert "00442071234" not in html  # James's call
    assert "Times in Europe/Rome" in html
    assert "http://localhost:8501/reports" in html  # the portal's reports
    assert 'id="chart-data"' in html
    missed = client.get("/gadgets/calls?show=missed").get_data(as_text=True)
    assert "3471234***" in missed
    assert "00212345***" not in missed
    outgoing = client.get("/gadgets/calls?show=outgoing").get_data(as_text=True)
    assert "00212345***" in outgoing
    assert "0298765***" not in outgoing


def test_budget_shows_spend_credit_left_the_lock_warning_and_costed_calls(app):
    client = app.test_client()
    log_in(client, page="/gadgets/budget")
    html = client.get("/gadgets/budget").get_data(as_text=True)
    assert "Personal budget" in html
    assert 'data-testid="spent">€4.50<' in html
    assert 'data-testid="remaining">€5.50<' in html
    assert '<progress id="left-1" max="100" value="55">' in html
    assert "your phone is locked until the next period starts" in html
    assert "00390611122***" in html
    assert "00442071234" not in html


def test_a_person_without_a_budget_is_told_so(app):
    client = app.test_client()
    log_in(client, "emily.wong", page="/gadgets/budget")
    assert "No budget applies to you." in client.get("/gadgets/budget").get_data(as_text=True)


def test_phone_lock_needs_the_session_token_and_locks_and_unlocks(app, gadget_settings, engine):
    client = app.test_client()
    log_in(client, page="/gadgets/lock")
    html = client.get("/gadgets/lock").get_data(as_text=True)
    assert "Phone unlocked" in html
    # no token, a wrong one, or another site: refused, nothing changes
    assert client.post("/gadgets/lock", data={"action": "lock"}).status_code == 403
    assert client.post("/gadgets/lock", data={"action": "lock", "csrf": "x"}).status_code == 403
    token = csrf_of(html)
    resp = client.post(
        "/gadgets/lock", data={"action": "lock", "csrf": token}, headers={"Origin": "http://evil.example"}
    )
    assert resp.status_code == 403
    assert not phonelock.lock_state(engine, "2302").locked
    resp = client.post("/gadgets/lock", data={"action": "lock", "csrf": token})
    assert resp.status_code == 303
    assert phonelock.lock_state(engine, "2302").user_locked
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Your phone is locked." in html
    assert "Unlock phone" in html
    resp = client.post("/gadgets/lock", data={"action": "unlock", "csrf": token})
    assert not phonelock.lock_state(engine, "2302").locked
    assert "Your phone is unlocked." in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_an_administrators_lock_cannot_be_undone_from_the_gadget(app, gadget_settings, engine):
    admin = load_principal(engine, "admin")
    phonelock.set_admin_lock(gadget_settings, engine, admin, "6120", True, "lost phone")
    try:
        client = app.test_client()
        log_in(client, "emily.wong", page="/gadgets/lock")
        html = client.get("/gadgets/lock").get_data(as_text=True)
        assert "Phone locked" in html
        assert "only an administrator can unlock it" in html
        client.post("/gadgets/lock", data={"action": "lock", "csrf": csrf_of(html)})
        html = client.get("/gadgets/lock").get_data(as_text=True)
        client.post("/gadgets/lock", data={"action": "unlock", "csrf": csrf_of(html)})
        state = phonelock.lock_state(engine, "6120")
        assert state.admin_locked
        assert state.locked
    finally:
        phonelock.set_admin_lock(gadget_settings, engine, admin, "6120", False)


def test_log_out_needs_the_token_and_ends_the_session_at_once(app):
    client = app.test_client()
    log_in(client)
    html = client.get("/gadgets/calls").get_data(as_text=True)
    assert client.post("/gadgets/logout").status_code == 403
    assert client.get("/gadgets/calls").status_code == 200
    resp = client.post("/gadgets/logout", data={"csrf": csrf_of(html)})
    assert resp.status_code == 303
    assert client.get("/gadgets/calls").status_code == 302


def test_an_expired_session_asks_to_log_in_again(app, engine):
    client = app.test_client()
    log_in(client)
    with engine.begin() as conn:
        conn.execute(auth.sessions.update().values(expires_at=auth.utcnow() - timedelta(minutes=1)))
    assert client.get("/gadgets/calls").status_code == 302


def test_pages_may_be_framed_only_by_the_service_and_the_configured_origins(app, gadget_settings):
    resp = app.test_client().get("/gadgets/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://*.webex.com" in csp
    assert "script-src 'self'" in csp
    assert "X-Frame-Options" not in resp.headers
    from phone_xml import create_app

    strict = gadget_settings.model_copy(
        update={"gadgets": gadget_settings.gadgets.model_copy(update={"frame_ancestors": []})}
    )
    resp = create_app(strict).test_client().get("/gadgets/login")
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_plotly_comes_from_the_installed_package(app):
    resp = app.test_client().get("/gadgets/assets/plotly.min.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.data == resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    resp.close()


def test_gadgets_speak_the_persons_language_and_arabic_runs_right_to_left(app):
    client = app.test_client()
    log_in(client, "layla.haddad", page="/gadgets/lock")
    html = client.get("/gadgets/lock").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "قفل الهاتف" in html
    german = app.test_client().get("/gadgets/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Anmelden" in german.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_front_page_says_what_the_service_is(app, lang):
    resp = app.test_client().get(f"/?lang={lang}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "/phone/menu?name=#DEVICENAME#" in html
    assert "/gadgets/calls?user=${UserID}" in html
    assert "/api/v1/openapi.json" in html
    assert f'<html lang="{lang}"' in html


def test_a_switched_off_person_loses_the_gadget_at_once(app, engine):
    client = app.test_client()
    log_in(client, "emily.wong")
    with engine.begin() as conn:
        conn.execute(sa.update(auth.users).where(auth.users.c.id == "emily.wong").values(active=False))
    try:
        assert client.get("/gadgets/calls").status_code == 302
    finally:
        with engine.begin() as conn:
            conn.execute(sa.update(auth.users).where(auth.users.c.id == "emily.wong").values(active=True))
