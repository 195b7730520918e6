"""`ringledger users ...`: add, passwd, list, role, scope, import, unknown, sync, unlock, status."""

from __future__ import annotations

import io
import json

import pytest

from ringledger.cli import main
from tests.cdrs import Leg, cdr_file, utc
from warehouse import appdb, auth
from warehouse.audit import query_audit

pytestmark = pytest.mark.app_databases


def run(capsys, *args, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["users", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def listing(capsys) -> dict[str, dict]:
    code, out, _ = run(capsys, "list", "--all", "--format", "json")
    assert code == 0
    return {r["username"]: r for r in json.loads(out)}


def test_add_with_a_password_from_stdin_then_log_in(sites, capsys, monkeypatch):
    code, out, _ = run(
        capsys, "add", "giulia", "--role", "supervisor", "--extension", "1801", "--extension", "1802,1803",
        "--name", "Giulia Rossi", "--department", "Sales", "--password-stdin",
        stdin="a-long-password\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, out
    result = auth.login(sites, appdb.open_db(sites), "giulia", "a-long-password")
    assert result.ok
    assert result.principal.role == "supervisor"
    assert result.principal.extensions == ("1801", "1802", "1803")
    entry = query_audit(appdb.open_db(sites), action="user.created").entries[0]
    assert entry.actor.startswith("cli:")
    assert entry.target == "giulia"


def test_add_refuses_a_name_that_exists_and_a_short_password(sites, capsys, monkeypatch):
    assert run(capsys, "add", "giulia")[0] == 0
    code, _, err = run(capsys, "add", "GIULIA")
    assert code == 2
    assert "already exists" in err
    code, _, err = run(capsys, "add", "marco", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2
    assert "at least 8 characters" in err


def test_passwd_sets_a_new_password_from_stdin(sites, capsys, monkeypatch):
    run(capsys, "add", "giulia", "--password-stdin", stdin="first-password\n", monkeypatch=monkeypatch)
    code, out, _ = run(capsys, "passwd", "giulia", stdin="second-password\n", monkeypatch=monkeypatch)
    assert code == 0
    engine = appdb.open_db(sites)
    assert not auth.login(sites, engine, "giulia", "first-password").ok
    assert auth.login(sites, engine, "giulia", "second-password").ok
    assert query_audit(engine, action="user.password").total == 1
    code, _, err = run(capsys, "passwd", "nobody", stdin="whatever-123\n", monkeypatch=monkeypatch)
    assert code == 2
    assert "no user 'nobody'" in err


def test_role_scope_and_list(sites, capsys):
    run(capsys, "add", "max", "--extension", "1811")
    assert run(capsys, "role", "max", "supervisor")[0] == 0
    assert run(capsys, "scope", "max", "--department", "Sales", "--cost-centre", "CC-100")[0] == 0
    row = listing(capsys)["max"]
    assert row["role"] == "supervisor"
    assert row["extensions"] == ["1811"]
    assert row["scopes"] == ["cost_centre:CC-100", "department:Sales"]
    engine = appdb.open_db(sites)
    scope_entry = query_audit(engine, action="user.scope").entries[0]
    assert scope_entry.detail_data["added"] == ["cost_centre:CC-100", "department:Sales"]
    assert run(capsys, "scope", "max")[0] == 0
    assert listing(capsys)["max"]["scopes"] == []
    assert run(capsys, "role", "ghost", "user")[0] == 2


def test_disable_enable_and_unlock(sites, capsys, monkeypatch):
    run(capsys, "add", "ann", "--password-stdin", stdin="ann-password-1\n", monkeypatch=monkeypatch)
    engine = appdb.open_db(sites)
    run(capsys, "disable", "ann")
    assert not auth.login(sites, engine, "ann", "ann-password-1").ok
    run(capsys, "enable", "ann")
    for _ in range(sites.login.max_failures):
        auth.login(sites, engine, "ann", "wrong")
    assert not auth.login(sites, engine, "ann", "ann-password-1").ok
    code, out, _ = run(capsys, "unlock", "ann")
    assert "lock lifted" in out
    assert auth.login(sites, engine, "ann", "ann-password-1").ok
    assert query_audit(engine, action="login.unlocked").total == 1
    assert [e.detail_data["active"] for e in query_audit(engine, action="user.active").entries] == [True, False]


def test_import_keeps_the_good_lines_and_names_each_bad_one(sites, capsys, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        "username,display_name,department,role,extensions,time_zone\n"
        "ann,Ann,Sales,user,1801,Europe/Zurich\n"
        "bob,Bob,Sales,boss,1802,\n"
        "cid,Cid,Support,user,1803,Mars/Olympus\n"
        "ann,Ann again,Sales,user,1804,\n"
        "dora,Dora,Finance,supervisor,2001;2002,\n"
    )
    code, out, err = run(capsys, "import", str(path))
    assert code == 1
    assert "2 user(s) created" in out
    assert f"{path}: line 3: role 'boss' is not one of user, supervisor, administrator" in err
    assert f"{path}: line 4: time_zone 'Mars/Olympus' is not a known time zone" in err
    assert f"{path}: line 5: username 'ann' already appears on line 2" in err
    assert set(listing(capsys)) == {"ann", "dora"}
    code, out, _ = run(capsys, "status")
    assert "csv" in out
    assert "warnings" in out


def test_import_of_a_file_with_a_wrong_header_changes_nothing(sites, capsys, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("user,name\nann,Ann\n")
    code, _, err = run(capsys, "import", str(path))
    assert code == 2
    assert "line 1" in err
    assert listing(capsys) == {}


def test_unknown_lists_extensions_nobody_has(sites, capsys, home):
    from warehouse.ingest import Ingestor

    Ingestor(sites).ingest([cdr_file(home / "in", [Leg("1850", "0041446680001", utc(2026, 3, 4, 9, 0))])])
    code, out, _ = run(capsys, "unknown", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["extension"], r["calls"], r["site"]) for r in rows] == [("1850", 1, "ZRH")]
    assert run(capsys, "assign", "ann-missing", "1850")[0] == 2
    run(capsys, "add", "ann")
    assert run(capsys, "assign", "ann", "1850")[0] == 0
    assert json.loads(run(capsys, "unknown", "--format", "json")[1]) == []


def test_sync_without_a_directory_says_what_to_configure(sites, capsys):
    code, _, err = run(capsys, "sync")
    assert code == 2
    assert "[ldap] preset, urls and user_base" in err


@pytest.mark.ldap
def test_sync_from_the_directory(ol, capsys, monkeypatch):
    code, out, err = run(capsys, "sync")
    assert code == 0
    assert "6 user(s) created" in out
    assert "erin" in err  # the phone that is no extension
    assert listing(capsys)["dave"]["role"] == "administrator"
    code, _, err = run(capsys, "passwd", "alice", stdin="x" * 10, monkeypatch=monkeypatch)
    assert code == 2
    assert "directory password" in err
