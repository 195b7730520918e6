"""AXL enforcement against the CUCM double: envelopes, lock and restore, failures kept and retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from tests.lock_data import staff, write_calls
from warehouse import axl, budgets, enforcement, phonelock
from warehouse.access import load_principal
from warehouse.appdb import utcnow
from warehouse.audit import query_audit
from warehouse.config import load_settings

pytestmark = pytest.mark.app_databases

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def axl_settings(home, cucm_double, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_AXL_PASSWORD", cucm_double.password)
    (home / "ringledger.toml").write_text(
        '[company]\ntime_zone = "Europe/Rome"\n'
        f'[cucm]\ncluster = "StandAloneCluster"\naxl_url = "{cucm_double.url}"\naxl_user = "{cucm_double.user}"\n'
        f'axl_version = "{cucm_double.version}"\nenforcement = "axl"\nblocking_css = "CSS_LOCKED"\n'
        'line_partition = "PT_LINES"\nretry_base_seconds = 30\n'
    )
    return load_settings()


def test_axl_requests_carry_the_envelope_namespace_soapaction_and_basic_auth(axl_settings, cucm_double):
    engine = staff(axl_settings)
    phonelock.set_user_lock(axl_settings, engine, load_principal(engine, "anna"), True)
    sent = cucm_double.requests()
    assert [r["operation"] for r in sent] == ["getLine", "updateLine"]
    for r in sent:
        assert r["authorized"]
        assert r["user"] == "axl"
        assert r["soap_action"] == f'"CUCM:DB ver=14.0 {r["operation"]}"'
        assert r["content_type"].startswith("text/xml")
        root = etree.fromstring(r["body"].encode())
        assert root.tag == f"{{{SOAP}}}Envelope"
        body = root.find(f"{{{SOAP}}}Body")
        op = body[0]
        assert op.tag == f"{{http://www.cisco.com/AXL/API/14.0}}{r['operation']}"
        assert op.findtext("pattern") == "2001"
        assert op.findtext("routePartitionName") == "PT_LINES"
    update = etree.fromstring(sent[1]["body"].encode()).find(f"{{{SOAP}}}Body")[0]
    assert update.findtext("shareLineAppearanceCssName") == "CSS_LOCKED"
    assert cucm_double.lines()["2001"] == "CSS_LOCKED"
    state = enforcement.states(engine)["2001"]
    assert state.in_effect
    assert state.original_css == "CSS_INTERNATIONAL"


def test_unlock_restores_the_original_css_and_repeats_change_nothing(axl_settings, cucm_double):
    engine = staff(axl_settings)
    anna = load_principal(engine, "anna")
    phonelock.set_user_lock(axl_settings, engine, anna, True)
    phonelock.set_user_lock(axl_settings, engine, anna, True)  # idempotent: no second updateLine
    assert [r["operation"] for r in cucm_double.requests()] == ["getLine", "updateLine"]
    phonelock.set_user_lock(axl_settings, engine, anna, False)
    assert cucm_double.lines()["2001"] == "CSS_INTERNATIONAL"
    restore = etree.fromstring(cucm_double.requests()[-1]["body"].encode()).find(f"{{{SOAP}}}Body")[0]
    assert restore.findtext("shareLineAppearanceCssName") == "CSS_INTERNATIONAL"
    assert enforcement.states(engine)["2001"].applied == enforcement.UNLOCKED


def test_a_failed_cucm_call_keeps_the_intended_state_and_is_retried(axl_settings, cucm_double):
    engine = staff(axl_settings)
    cucm_double.fail_next(2)  # getLine answers 503, then the first retry's getLine too
    state = phonelock.set_admin_lock(axl_settings, engine, load_principal(engine, "root"), "2002", True)
    assert state.locked  # the app state holds, whatever CUCM does
    pending = enforcement.problems(engine)
    assert [(p.extension, p.intended, p.applied) for p in pending] == [("2002", "locked", None)]
    assert "HTTP 503" in pending[0].last_error
    assert pending[0].attempts == 1
    assert cucm_double.lines()["2002"] == "CSS_INTERNATIONAL"
    assert enforcement.retry_due(axl_settings, engine) == {}  # backing off
    later = utcnow() + timedelta(seconds=31)
    assert enforcement.due_count(engine, later) == 1
    enforcement.retry_due(axl_settings, engine, now=later)
    assert enforcement.states(engine)["2002"].attempts == 2  # failed again: waits twice as long
    enforcement.retry_due(axl_settings, engine, now=utcnow() + timedelta(seconds=61))
    assert enforcement.states(engine)["2002"].in_effect
    assert enforcement.problems(engine) == []
    assert cucm_double.lines()["2002"] == "CSS_LOCKED"


def test_retry_now_ignores_the_backoff_and_is_audited(axl_settings, cucm_double):
    engine = staff(axl_settings)
    cucm_double.fail_next(1)
    phonelock.set_admin_lock(axl_settings, engine, load_principal(engine, "root"), "2002", True)
    assert enforcement.retry_due(axl_settings, engine) == {}  # backing off for 30 s
    outcome = enforcement.retry_now(axl_settings, engine, "root")
    assert list(outcome) == ["2002"]
    assert outcome["2002"].in_effect
    assert cucm_double.lines()["2002"] == "CSS_LOCKED"
    assert enforcement.retry_now(axl_settings, engine, "root") == {}  # nothing left to retry
    entries = [(e.actor, e.action, e.target) for e in query_audit(engine, action="phone.cucm_retry").entries]
    assert entries == [("root", "phone.cucm_retry", "2002")]


def test_soap_faults_and_wrong_credentials_are_errors_with_their_text(axl_settings, cucm_double):
    client = axl.client(axl_settings)
    with pytest.raises(axl.AxlError, match="Line was not found") as fault:
        client.get_line("9999", "PT_LINES")
    assert fault.value.code == "5007"
    bad = axl.AxlClient(cucm_double.url, "axl", "wrong")
    with pytest.raises(axl.AxlError, match="HTTP 401"):
        bad.get_line("2001", "PT_LINES")
    phone = client.get_phone("SEP00AABBCC2001")
    assert phone.owner == "anna"
    assert [(ln.pattern, ln.partition) for ln in phone.lines] == [("2001", "PT_LINES")]


def test_a_call_that_crosses_the_budget_locks_the_line_on_cucm_and_the_next_period_restores_it(
    axl_settings, cucm_double
):
    engine = staff(axl_settings)
    budgets.assign_budget(axl_settings, engine, load_principal(engine, "root"), "user", "anna", "monthly", "5")
    start = datetime(2026, 1, 12, 9, tzinfo=ROME)
    write_calls(axl_settings, [{"extension": "2001", "started_at": start.astimezone(UTC), "cost": Decimal("3")}])
    budgets.evaluate(axl_settings, engine, now=start + timedelta(hours=1))
    assert cucm_double.requests() == []
    write_calls(
        axl_settings,
        [{"extension": "2001", "started_at": (start + timedelta(days=1)).astimezone(UTC), "cost": Decimal("2.5")}],
    )
    report = budgets.evaluate(axl_settings, engine, now=start + timedelta(days=1, hours=1))
    assert report.locked == ["2001"]
    assert phonelock.lock_state(engine, "2001").budget_locked
    assert cucm_double.lines() == {"2001": "CSS_LOCKED", "2002": "CSS_INTERNATIONAL", "2003": "CSS_INTERNATIONAL"}
    report = budgets.evaluate(axl_settings, engine, now=datetime(2026, 2, 1, 0, 0, 30, tzinfo=ROME))
    assert report.unlocked == ["2001"]
    assert cucm_double.lines()["2001"] == "CSS_INTERNATIONAL"
    assert [r["operation"] for r in cucm_double.requests()] == ["getLine", "updateLine", "getLine", "updateLine"]
