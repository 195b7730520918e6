"""Full numbers on a report: administrators only, on request, and every such report is in the audit log."""

from __future__ import annotations

import pytest

from warehouse import appdb
from warehouse.access import load_principal
from warehouse.audit import query_audit
from warehouse.reports import Filters, run_report

ALL = Filters(period="all")


def test_an_administrator_may_ask_for_full_numbers_and_the_view_is_audited(ravello):
    engine = appdb.open_db(ravello)
    admin = load_principal(engine, "admin")
    before = query_audit(engine, action="numbers.unmasked", actor="admin").total

    masked = run_report(ravello, admin, "call_list", ALL)
    full = run_report(ravello, admin, "call_list", ALL, unmask=True, engine=engine)

    assert "00212345***" in {r["other_number"] for r in masked.records()}
    assert "00212345678" in {r["other_number"] for r in full.records()}
    entries = query_audit(engine, action="numbers.unmasked", actor="admin")
    assert entries.total == before + 1
    assert entries.entries[0].target == "report call_list"
    assert entries.entries[0].detail_data["rows"] == len(full.rows)


def test_nobody_else_may_and_the_audit_cannot_be_skipped(ravello):
    engine = appdb.open_db(ravello)
    with pytest.raises(PermissionError):
        run_report(ravello, load_principal(engine, "giulia.rossi"), "call_list", ALL, unmask=True, engine=engine)
    with pytest.raises(ValueError, match="audited"):
        run_report(ravello, load_principal(engine, "admin"), "call_list", ALL, unmask=True)
