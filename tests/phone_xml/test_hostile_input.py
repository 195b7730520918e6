"""Hostile input at the phone service: oversized bodies, cookies instead of tokens, script in names, SQL in filters.

(Log-in, CSRF, session and PIN lock-out tests of each channel live with the channel's own tests;
these are the attacks that cut across them.)
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from lxml import etree

from tests.phone_xml.test_api import token
from tests.phone_xml.test_gadgets import log_in
from warehouse import appdb, auth
from warehouse.access import load_principal
from warehouse.reports import list_reports

SCRIPT = "<script>alert('rl')</script>"
IMG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def hostile_name(engine):
    """Giulia's display name made of markup, as a directory could deliver it."""

    def rename(name: str) -> None:
        with engine.begin() as conn:
            conn.execute(sa.update(appdb.users).where(appdb.users.c.id == "giulia.rossi").values(display_name=name))

    rename(SCRIPT + IMG)
    yield SCRIPT + IMG
    rename("Giulia Rossi")


def test_an_oversized_body_is_refused_before_it_is_read(client, gadget_settings, engine):
    big = b"{" + b" " * (gadget_settings.phone_service.max_request_kb * 1024 + 10) + b"}"
    secret = token(gadget_settings, engine, "giulia.rossi")
    resp = client.post(
        "/api/v1/reports/call_list/run",
        data=big,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "payload_too_large"
    assert client.post("/curri", data=big, content_type="text/xml").status_code == 413
    assert client.post("/gadgets/login", data={"username": "x" * len(big)}).status_code == 413


def test_the_api_takes_no_cookie_and_no_other_channels_session(client, gadget_settings, engine):
    assert log_in(client).status_code == 303  # a gadget session cookie is now in the client
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/phone/lock").status_code == 401
    giulia = load_principal(engine, "giulia.rossi")
    for channel in ("portal", "gadget", "phone"):
        session = auth.start_session(gadget_settings, engine, giulia, channel)
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {session}"}).status_code == 401


def test_a_gadget_session_token_is_not_a_portal_one_and_back(gadget_settings, engine):
    giulia = load_principal(engine, "giulia.rossi")
    portal = auth.start_session(gadget_settings, engine, giulia, "portal")
    assert auth.session_principal(gadget_settings, engine, portal, "gadget") is None
    gadget = auth.start_session(gadget_settings, engine, giulia, "gadget")
    assert auth.session_principal(gadget_settings, engine, gadget, "portal") is None


def test_a_forged_gadget_cookie_gets_the_log_in_page(client):
    client.set_cookie("rl_gadget", "forged-" + "a" * 40, path="/gadgets")
    resp = client.get("/gadgets/calls")
    assert resp.status_code == 302
    assert "/gadgets/login" in resp.headers["Location"]


def test_markup_in_a_name_is_shown_as_text_in_the_gadgets(client, hostile_name):
    log_in(client)
    for page in ("/gadgets/calls", "/gadgets/budget", "/gadgets/lock"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html or "&lt;script&gt;alert(&#39;rl&#39;)" in html, page


def test_markup_in_a_name_stays_text_in_the_api(client, gadget_settings, engine, hostile_name):
    secret = token(gadget_settings, engine, "giulia.rossi")
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert resp.mimetype == "application/json"
    assert resp.get_json()["display_name"] == hostile_name


@pytest.mark.parametrize(
    "payload",
    ["' or 1=1 --", "2302' union select * from calls --", "%", "_", "\\", "'; drop table calls; --", "\x00"],
)
def test_sql_in_every_api_parameter_finds_nothing_more(client, gadget_settings, engine, payload):
    secret = token(gadget_settings, engine, "giulia.rossi")
    headers = {"Authorization": f"Bearer {secret}"}
    mine = client.get("/api/v1/calls?limit=500", headers=headers).get_json()["total"]
    for name in ("extension", "number", "direction", "side", "status", "cursor", "from"):
        resp = client.get("/api/v1/calls", query_string={name: payload}, headers=headers)
        assert resp.status_code in (200, 400, 403), (name, resp.status_code)
        if resp.status_code == 200:
            assert resp.get_json()["total"] <= mine
    conditions = {
        "conditions": [{"field": f, "op": "contains", "value": payload} for f in ("other_number", "extension")]
    }
    for report in ("call_list", "cost_by_extension", "traffic_by_custom"):
        body = {"extensions": [payload], "gateways": [payload], "departments": [payload], **conditions}
        resp = client.post(
            f"/api/v1/reports/{report}/run", data=json.dumps(body), headers=headers, content_type="application/json"
        )
        assert resp.status_code in (200, 400), resp.get_data(as_text=True)
        if resp.status_code == 200:
            assert resp.get_json()["rows"] == []


def test_field_names_and_report_names_are_only_from_the_lists(client, gadget_settings, engine):
    secret = token(gadget_settings, engine, "giulia.rossi")
    headers = {"Authorization": f"Bearer {secret}"}
    for body in (
        {"fields": ["other_number; drop table calls"]},
        {"group_by": ["1) or (1=1"]},
        {"conditions": [{"field": "cost) or (1=1", "op": "eq", "value": "1"}]},
        {"conditions": [{"field": "cost", "op": "= 1 or 1 =", "value": "1"}]},
    ):
        resp = client.post(
            "/api/v1/reports/call_list/run", data=json.dumps(body), headers=headers, content_type="application/json"
        )
        assert resp.status_code == 400
        assert resp.get_json()["error"]["code"] in ("invalid_parameter", "invalid_filter")
    assert client.post("/api/v1/reports/..%2f..%2fetc/run", headers=headers).status_code == 404
    assert {r.name for r in list_reports()} >= {"call_list"}


def test_markup_in_a_name_is_escaped_in_the_phone_xml(gadget_settings, engine):
    from phone_xml import create_app
    from warehouse import ipphone

    body = ipphone.text(SCRIPT, IMG, SCRIPT + " & " + IMG, [ipphone.SoftKey("Exit", "SoftKey:Exit", 3)])
    root = etree.fromstring(body)
    assert root.findtext("Title") == SCRIPT[:32]
    assert root.findtext("Text") == SCRIPT + " & " + IMG
    assert b"<script>" not in body
    assert create_app(gadget_settings) is not None
