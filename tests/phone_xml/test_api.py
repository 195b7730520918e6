"""The JSON API: tokens, scope (no parameter reaches a colleague's calls), pages, errors, the document."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from warehouse import api_tokens, phonelock
from warehouse.access import load_principal
from warehouse.appdb import utcnow
from warehouse.call_search import encode_cursor


def token(settings, engine, user: str, **kw) -> str:
    _info, secret = api_tokens.create_token(settings, engine, load_principal(engine, user), "tests", **kw)
    return secret


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def giulia(gadget_settings, engine):
    return {"Authorization": "Bearer " + token(gadget_settings, engine, "giulia.rossi")}


def all_calls(client, headers, **params) -> list[dict]:
    out, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/calls", headers=headers, query_string=query).get_json()
        out += body["calls"]
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_no_token_a_wrong_one_a_revoked_one_and_an_expired_one_are_refused(client, gadget_settings, engine):
    resp = client.get("/api/v1/calls")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/calls", headers={"Authorization": "Bearer rl_nope"}).status_code == 401
    info, secret = api_tokens.create_token(gadget_settings, engine, load_principal(engine, "giulia.rossi"), "x")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    api_tokens.revoke_token(engine, load_principal(engine, "giulia.rossi"), info.id)
    assert client.get("/api/v1/me", headers=headers).get_json()["error"]["code"] == "invalid_token"
    info, secret = api_tokens.create_token(gadget_settings, engine, load_principal(engine, "giulia.rossi"), "y", 1)
    with engine.begin() as conn:
        conn.execute(
            sa.update(api_tokens.api_token)
            .where(api_tokens.api_token.c.id == info.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_me_names_the_owner(client, giulia):
    body = client.get("/api/v1/me", headers=giulia).get_json()
    assert body["user_id"] == "giulia.rossi"
    assert body["extensions"] == ["2302"]
    assert body["time_zone"] == "Europe/Rome"
    assert body["token"]["name"] == "tests"


def test_a_token_sees_only_its_owners_calls_whatever_the_parameters(client, giulia):
    mine = all_calls(client, giulia)
    assert mine
    assert {c["extension"] for c in mine} == {"2302"}
    numbers = {c["other_number"] for c in mine}
    assert "00212345***" in numbers  # masked
    assert not any(n and n.startswith("00287654") for n in numbers)  # Marco's
    # asking for colleagues' extensions, their numbers, or everything ever: still nothing of theirs
    for params in (
        {"extension": "2303"},
        {"extension": "4410"},
        {"number": "0028765"},
        {"number": "004420712"},
        {"from": "2000-01-01", "to": "2100-12-31", "extension": "4410"},
        {"direction": "outgoing", "extension": "6120"},
    ):
        body = client.get("/api/v1/calls", headers=giulia, query_string=params).get_json()
        assert body["total"] == 0, params
        assert body["calls"] == []
    # a cursor made up to start inside a colleague's calls moves the page, never the scope
    cursor = encode_cursor(utcnow() + timedelta(days=1), "zzzz", "4410")
    body = client.get("/api/v1/calls", headers=giulia, query_string={"cursor": cursor}).get_json()
    assert {c["extension"] for c in body["calls"]} == {"2302"}


def test_hidden_digits_cannot_be_found_by_searching(client, giulia):
    assert client.get("/api/v1/calls", headers=giulia, query_string={"number": "00212345"}).get_json()["total"] == 1
    assert client.get("/api/v1/calls", headers=giulia, query_string={"number": "678"}).get_json()["total"] == 0


def test_a_supervisor_sees_the_department_and_an_administrator_everything(client, gadget_settings, engine, giulia):
    marco = {"Authorization": "Bearer " + token(gadget_settings, engine, "marco.bianchi")}
    extensions = {c["extension"] for c in all_calls(client, marco)}
    assert extensions == {"2302", "2303"}
    admin = {"Authorization": "Bearer " + token(gadget_settings, engine, "admin")}
    assert {"2302", "4410", "6120"} <= {c["extension"] for c in all_calls(client, admin)}


def test_pages_cover_every_call_once_with_a_steady_total(client, giulia):
    everything = client.get("/api/v1/calls", headers=giulia, query_string={"limit": 500}).get_json()
    total = everything["total"]
    assert total == len(everything["calls"]) >= 5
    assert everything["next_cursor"] is None
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/calls", headers=giulia, query_string=params).get_json()
        assert body["total"] == total
        assert len(body["calls"]) <= 2
        seen += [(c["leg_id"], c["extension"]) for c in body["calls"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == (total + 1) // 2
    assert seen == [(c["leg_id"], c["extension"]) for c in everything["calls"]]
    starts = [c["started_at"] for c in everything["calls"]]
    assert starts == sorted(starts, reverse=True)


def test_filters_narrow_the_calls(client, giulia):
    missed = client.get("/api/v1/calls", headers=giulia, query_string={"side": "missed"}).get_json()
    assert [c["other_number"] for c in missed["calls"]] == ["3471234***"]
    answered = all_calls(client, giulia, status="answered")
    assert all(c["answered"] for c in answered)
    incoming = all_calls(client, giulia, direction="incoming")
    assert {c["direction"] for c in incoming} == {"incoming"}
    old = client.get("/api/v1/calls", headers=giulia, query_string={"to": "2000-01-01"}).get_json()
    assert old["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"direction": "sideways"}, "direction"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"number": "12ab"}, "number"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_wrong_parameter_is_a_400_naming_it(client, giulia, params, field):
    resp = client.get("/api/v1/calls", headers=giulia, query_string=params)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error == {**error, "status": 400, "code": "invalid_parameter", "field": field}
    assert error["message"]


def test_unknown_paths_methods_reports_and_bodies_get_json_errors(client, giulia):
    resp = client.get("/api/v1/nothing", headers=giulia)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    resp = client.delete("/api/v1/calls", headers=giulia)
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
    resp = client.post("/api/v1/reports/no_such_report/run", headers=giulia, json={})
    assert resp.status_code == 404
    assert resp.get_json()["error"]["field"] == "name"
    resp = client.post("/api/v1/reports/call_list/run", headers=giulia, data="period=today")
    assert resp.status_code == 415
    resp = client.post(
        "/api/v1/reports/call_list/run", headers={**giulia, "Content-Type": "application/json"}, data="{not json"
    )
    assert resp.status_code == 400
    resp = client.post("/api/v1/reports/call_list/run", headers=giulia, json={"period": "someday"})
    assert resp.get_json()["error"]["field"] == "period"
    resp = client.post("/api/v1/reports/call_list/run", headers=giulia, json={"colour": "red"})
    assert resp.get_json()["error"]["field"] == "colour"


def test_too_many_requests_get_429_with_retry_after(gadget_settings, engine):
    from phone_xml import create_app

    limited = gadget_settings.model_copy(
        update={"api": gadget_settings.api.model_copy(update={"requests_per_minute": 3})}
    )
    client = create_app(limited).test_client()
    headers = {"Authorization": "Bearer " + token(limited, engine, "giulia.rossi")}
    codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.get_json()["error"]["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) >= 1


def test_reports_are_listed_and_run_in_the_owners_scope(client, giulia):
    reports = client.get("/api/v1/reports", headers=giulia).get_json()["reports"]
    assert "cost_by_extension" in {r["name"] for r in reports}
    resp = client.post("/api/v1/reports/cost_by_extension/run", headers=giulia, json={"period": "last_30_days"})
    body = resp.get_json()
    assert resp.status_code == 200
    keys = [c["key"] for c in body["columns"]]
    extensions = [row[keys.index("g1")] for row in body["rows"]]
    assert extensions == ["2302"]
    assert body["totals"]["cost"] == "4.500000"  # exact decimal text
    resp = client.post("/api/v1/reports/call_list/run", headers=giulia)
    numbers = [str(v) for row in resp.get_json()["rows"] for v in row]
    assert not any(n.startswith("00287654") for n in numbers)
    assert any(n == "00212345***" for n in numbers)


def test_budget_and_phone_state_and_lock_and_unlock(client, giulia, engine):
    budgets = client.get("/api/v1/budgets", headers=giulia).get_json()["budgets"]
    assert [(b["name"], b["allowance"], b["spent"], b["remaining"], b["percent"]) for b in budgets] == [
        ("Personal budget", "10", "4.500000", "5.500000", 45)
    ]
    assert client.get("/api/v1/phone", headers=giulia).get_json()["locked"] is False
    body = client.post("/api/v1/phone/lock", headers=giulia).get_json()
    assert body["locked"] is True
    assert body["extensions"][0]["status"] == "user"
    assert phonelock.lock_state(engine, "2302").user_locked
    resp = client.post("/api/v1/phone/unlock", headers=giulia, json={"extensions": ["4410"]})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["field"] == "extensions"
    assert phonelock.lock_state(engine, "2302").user_locked
    body = client.post("/api/v1/phone/unlock", headers=giulia, json={}).get_json()
    assert body["locked"] is False
    assert not phonelock.lock_state(engine, "2302").locked


def test_a_person_without_an_extension_gets_409_on_lock(client, gadget_settings, engine):
    admin = {"Authorization": "Bearer " + token(gadget_settings, engine, "admin")}
    resp = client.post("/api/v1/phone/lock", headers=admin)
    assert resp.status_code == 409


def test_the_openapi_document_describes_every_route_and_only_those(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    params = {p["name"]: p["schema"] for p in doc["paths"]["/calls"]["get"]["parameters"]}
    assert set(params) == {"from", "to", "direction", "side", "status", "extension", "number", "limit", "cursor"}
    assert params["limit"]["maximum"] == 500
    assert doc["components"]["schemas"]["Filters"]["additionalProperties"] is False
