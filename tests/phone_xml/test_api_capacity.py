"""The JSON API lists and runs the quality, capacity and call-back reports like any other."""

from __future__ import annotations

from tests.phone_xml.test_api import token


def test_table_reports_are_listed_and_run(app, gadget_settings, engine):
    client = app.test_client()
    admin = {"Authorization": "Bearer " + token(gadget_settings, engine, "admin")}
    reports = {r["name"]: r for r in client.get("/api/v1/reports", headers=admin).get_json()["reports"]}
    assert reports["erlang_b_sizing"]["kind"] == "table"
    assert reports["erlang_b_sizing"]["category"] == "capacity"
    resp = client.post(
        "/api/v1/reports/erlang_b_sizing/run", headers=admin, json={"period": "last_30_days", "blocking_pct": 2}
    )
    assert resp.status_code == 200
    body = resp.get_json()
    keys = [c["key"] for c in body["columns"]]
    assert {"gateway", "channels", "busy_hour_erlangs", "channels_needed", "blocking"} <= set(keys)
    assert body["rows"]
    assert {row[keys.index("target_blocking")] for row in body["rows"]} == {0.02}
    resp = client.post("/api/v1/reports/unanswered_callbacks/run", headers=admin, json={"period": "last_30_days"})
    assert resp.status_code == 200
    bad = client.post("/api/v1/reports/concurrent_calls/run", headers=admin, json={"interval": "weekly"})
    assert bad.status_code == 400
