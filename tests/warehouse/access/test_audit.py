"""The audit log: entries go in with who, what, whom and when; the admin page reads them filtered and paged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from warehouse import appdb
from warehouse.audit import audit, query_audit

pytestmark = pytest.mark.app_databases


@pytest.fixture
def engine(settings):
    engine = appdb.open_db(settings)
    start = appdb.utcnow() - timedelta(hours=30)
    for i in range(30):
        actor = "ann" if i % 2 else "root"
        action = ["login", "login.failed", "user.role"][i % 3]
        audit(
            engine,
            actor,
            action,
            f"target-{i}",
            {"n": i, "note": "50% off" if i == 7 else ""},
            at=start + timedelta(hours=i),
        )
    return engine


def test_newest_first_with_paging_and_a_total(engine):
    first = query_audit(engine, limit=10)
    second = query_audit(engine, limit=10, offset=10)
    assert first.total == second.total == 30
    assert [e.detail_data["n"] for e in first.entries] == list(range(29, 19, -1))
    assert [e.detail_data["n"] for e in second.entries] == list(range(19, 9, -1))


def test_filters_by_actor_action_prefix_target_and_time(engine):
    assert query_audit(engine, actor="ANN").total == 15
    assert query_audit(engine, action="login").total == 20  # login and login.failed
    assert query_audit(engine, action="login.failed").total == 10
    assert query_audit(engine, target="target-3").entries[0].detail_data["n"] == 3
    earliest = query_audit(engine, limit=1000).entries[-1].at
    window = query_audit(engine, since=earliest + timedelta(hours=5), until=earliest + timedelta(hours=8))
    assert sorted(e.detail_data["n"] for e in window.entries) == [5, 6, 7]


def test_text_search_takes_percent_signs_literally(engine):
    found = query_audit(engine, text="50%")
    assert [e.detail_data["n"] for e in found.entries] == [7]
    assert query_audit(engine, text="%").total == 1


def test_long_values_are_cut_not_refused(settings):
    engine = appdb.open_db(settings)
    audit(engine, "x" * 500, "login.failed", "t" * 500, "detail")
    entry = query_audit(engine).entries[0]
    assert len(entry.actor) == 128
    assert len(entry.target) == 255


def test_paging_limits_are_checked(engine):
    with pytest.raises(ValueError, match="limit"):
        query_audit(engine, limit=0)
