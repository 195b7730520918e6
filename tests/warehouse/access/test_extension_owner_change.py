"""An extension that changes hands mid-month: each call belongs to whoever had it when the call started."""

from __future__ import annotations

import pytest
from ldap3 import MODIFY_REPLACE

import warehouse
from tests.cdrs import Leg, cdr_file, utc
from tests.ldapserver import OL_SUFFIX
from warehouse import appdb
from warehouse.access import load_principal, scoped_calls
from warehouse.ingest import Ingestor
from warehouse.ldap_directory import sync

pytestmark = [pytest.mark.ldap, pytest.mark.app_databases]


def test_calls_before_the_change_stay_with_the_old_owner_and_after_go_to_the_new(ol, ldap, tmp_path):
    engine = appdb.open_db(ol)
    sync(ol, engine, when=utc(2026, 3, 1))  # alice has 1801, bob 1802
    admin = ldap.admin()
    admin.modify(f"uid=alice,ou=people,{OL_SUFFIX}", {"telephoneNumber": [(MODIFY_REPLACE, ["1805"])]})
    admin.modify(f"uid=bob,ou=people,{OL_SUFFIX}", {"telephoneNumber": [(MODIFY_REPLACE, ["+41 44 668 1801"])]})
    admin.unbind()
    sync(ol, engine, when=utc(2026, 3, 15, 12, 0))  # on the 15th at noon, 1801 moves from alice to bob

    legs = [
        Leg("1801", "0041446680000", utc(2026, 3, 3, 9, 0)),
        Leg("1801", "0041446680001", utc(2026, 3, 15, 11, 59)),
        Leg("1801", "0041446680002", utc(2026, 3, 15, 12, 0)),
        Leg("1801", "0041446680003", utc(2026, 3, 20, 9, 0)),
        Leg("1802", "0041446680004", utc(2026, 3, 5, 9, 0)),
        Leg("1805", "0041446680005", utc(2026, 3, 21, 9, 0)),
    ]
    report = Ingestor(ol).ingest([cdr_file(tmp_path / "in", legs)])
    assert report.calls_rows == 6

    con = warehouse.connect(ol)
    owners = con.execute(
        "select other_number, extension, user_id, department from calls order by started_at"
    ).fetchall()
    assert owners == [
        ("0041446680000", "1801", "alice", "Sales"),
        ("0041446680004", "1802", "bob", "Sales"),
        ("0041446680001", "1801", "alice", "Sales"),
        ("0041446680002", "1801", "bob", "Sales"),
        ("0041446680003", "1801", "bob", "Sales"),
        ("0041446680005", "1805", "alice", "Sales"),
    ]

    def seen(user: str) -> list[str]:
        rows = scoped_calls(con, load_principal(engine, user), order_by="started_at").fetchall()
        names = [d[0] for d in con.description]
        return [dict(zip(names, r, strict=True))["other_number"] for r in rows]

    assert seen("alice") == ["0041446680000", "0041446680001", "0041446680005"]
    assert seen("bob") == ["0041446680004", "0041446680002", "0041446680003"]
