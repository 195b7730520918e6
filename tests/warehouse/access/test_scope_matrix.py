"""Who sees which calls, through every path that reads calls for a person.

People: ann and ben (Sales, CC-100, both report to max), cid (Support, CC-400), dora (Finance, CC-200),
sam (supervisor given Support and CC-200 explicitly), max (supervisor with nothing given: sees what he
manages), root (administrator), nemo (no extension). One outside call per extension, one internal
call ann -> ben, and a call from 1899, which nobody has.
"""

from __future__ import annotations

import json
import os

import pytest

import warehouse
from tests.cdrs import Leg, cdr_file, utc
from tests.ldapserver import SITES_TOML
from warehouse import appdb
from warehouse.access import Principal, load_principal, scope_filter, scoped_calls, scoped_query
from warehouse.accounts import create_user, set_scopes
from warehouse.ingest import Ingestor
from warehouse.lake import Lake

EXTENSIONS = {"ann": "1801", "ben": "1802", "cid": "1803", "dora": "2001", "sam": "1810", "max": "1811"}
KEY = "other_number || '/' || extension || '/' || leg_role"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("scope-home")
    (home / "ringledger.toml").write_text(SITES_TOML)
    old = {k: os.environ.get(k) for k in ("RINGLEDGER_HOME", "RINGLEDGER_CONFIG", "RINGLEDGER_DATABASE_URL")}
    os.environ["RINGLEDGER_HOME"] = str(home)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    try:
        from warehouse.config import load_settings

        settings = load_settings()
        engine = appdb.open_db(settings)
        lake = Lake(settings.lake_dir)
        org = {
            "ann": ("Sales", "CC-100", "max"),
            "ben": ("Sales", "CC-100", "max"),
            "cid": ("Support", "CC-400", ""),
            "dora": ("Finance", "CC-200", ""),
            "sam": ("Board", "CC-900", ""),
            "max": ("Sales Management", "CC-901", ""),
        }
        for name, (dept, cc, manager) in org.items():
            role = "supervisor" if name in ("sam", "max") else "user"
            create_user(
                engine, "cli:test", name, role=role, department=dept, cost_centre=cc, manager=manager,
                extensions=[EXTENSIONS[name]],
            )  # fmt: skip
        create_user(engine, "cli:test", "root", role="administrator")
        create_user(engine, "cli:test", "nemo", department="Sales", cost_centre="CC-100")
        set_scopes(engine, "cli:test", "sam", departments=["Support"], cost_centres=["CC-200"])
        from warehouse.directory import publish_snapshot

        publish_snapshot(engine, lake)
        legs = [Leg(ext, f"00410000{ext}", utc(2026, 3, 2, 9, i)) for i, ext in enumerate(EXTENSIONS.values())]
        legs.append(Leg("1801", "1802", utc(2026, 3, 2, 10, 0), dest_device="SEP000000000002"))
        legs.append(Leg("1899", "0041000001899", utc(2026, 3, 2, 11, 0)))
        Ingestor(settings).ingest([cdr_file(home / "in", legs)])
        price_billable_calls(lake)
        yield settings, engine
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        from warehouse import views

        views.reset()
        appdb.dispose_all()


def price_billable_calls(lake: Lake) -> None:
    """Give every billable call a cost (as rating would), so paths that show costs have rows to show."""
    import duckdb

    with lake.writer() as writer:
        for day in lake.days("calls"):
            files = [str(f) for f in lake.files("calls", [day])]
            target = lake.staging_dir(f"priced-{day}") / "calls-priced.parquet"
            duckdb.sql(
                "copy (select * replace (case when billable then cast(1.25 as decimal(18, 6)) end as cost, "
                "case when billable then 'CHF' end as currency) from read_parquet(?)) to '" + str(target) + "' "
                "(format parquet)",
                params=[files],
            )
            writer.publish("calls", replace={day: [target]})


def outside(ext: str) -> str:
    return f"00410000{ext}/{ext}/caller"


EXPECTED = {
    "ann": {outside("1801"), "1802/1801/caller"},
    "ben": {outside("1802"), "1801/1802/callee"},
    "cid": {outside("1803")},
    "dora": {outside("2001")},
    # own calls + department Support (cid) + cost centre CC-200 (dora)
    "sam": {outside("1810"), outside("1803"), outside("2001")},
    # own calls + what he manages: Sales / CC-100 (ann and ben)
    "max": {outside("1811"), outside("1801"), outside("1802"), "1802/1801/caller", "1801/1802/callee"},
    "nemo": set(),
}
EVERYTHING = set().union(*EXPECTED.values()) | {"0041000001899/1899/caller"}


def expected(name: str) -> set[str]:
    return EVERYTHING if name == "root" else EXPECTED[name]


PEOPLE = [*EXPECTED, "root"]


@pytest.mark.parametrize("name", PEOPLE)
def test_scoped_calls_helper(world, name):
    settings, engine = world
    con = warehouse.connect(settings)
    principal = load_principal(engine, name)
    scoped_calls(con, principal)
    names = [d[0] for d in con.description]
    rows = [dict(zip(names, r, strict=True)) for r in con.fetchall()]
    assert {f"{r['other_number']}/{r['extension']}/{r['leg_role']}" for r in rows} == expected(name)


@pytest.mark.parametrize("name", PEOPLE)
def test_scoped_query_with_its_own_ctes_and_named_parameters(world, name):
    settings, engine = world
    con = warehouse.connect(settings)
    sql = f"""
        -- a report query in the house style
        with picked as (select {KEY} as k, started_at from my_calls where started_at >= $since),
        final as (select k from picked)
        select * from final
    """
    rows = scoped_query(con, load_principal(engine, name), sql, {"since": utc(2026, 3, 1)}).fetchall()
    assert {r[0] for r in rows} == expected(name)


@pytest.mark.parametrize("name", PEOPLE)
def test_scope_filter_in_hand_written_sql_on_warehouse_connect(world, name):
    settings, engine = world
    f = scope_filter(load_principal(engine, name))
    rows = (
        warehouse.connect(settings).execute(f"select {KEY} from calls as x where {f.where('x')}", f.params).fetchall()
    )
    assert {r[0] for r in rows} == expected(name)


@pytest.mark.parametrize("name", PEOPLE)
def test_cli_sql_as_a_person(world, name, capsys):
    from ringledger.cli import main

    assert main(["sql", "--as", name, "--format", "json", f"select {KEY} as k from my_calls"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["k"] for r in rows} == expected(name)


def test_a_user_cannot_see_another_users_calls(world):
    settings, engine = world
    con = warehouse.connect(settings)
    ann = load_principal(engine, "ann")
    rows = scoped_query(con, ann, "select distinct user_id from my_calls").fetchall()
    assert rows == [("ann",)]
    assert scoped_query(con, ann, "select count(*) from my_calls where user_id = ?", ["dora"]).fetchone() == (0,)


def test_queries_for_a_person_cannot_read_unscoped_views(world):
    settings, engine = world
    con = warehouse.connect(settings)
    ann = load_principal(engine, "ann")
    for sql in (
        "select * from calls",
        "select * from my_calls join calls using (call_id)",
        'select * from "calls"',
        "select * from main.calls",
        "select * from daily_rollups",
        "select * from cdr",
        # the whole company's traffic per quarter hour and each gateway's load
        "select sum(calls) from quarter_hours",
        "select max(peak) from gateway_load",
    ):
        with pytest.raises(ValueError, match="my_calls"):
            scoped_query(con, ann, sql)


def test_cli_sql_as_refuses_unknown_people_and_unscoped_views(world, capsys):
    from ringledger.cli import main

    assert main(["sql", "--as", "nobody-here", "select 1"]) == 2
    assert main(["sql", "--as", "ann", "select count(*) from calls"]) == 2
    assert "my_calls" in capsys.readouterr().err


def test_numbers_come_back_masked_for_a_user_through_the_cli(world, capsys):
    from ringledger.cli import main

    main(["sql", "--as", "ann", "--format", "json", "select other_number, direction from my_calls order by 1"])
    rows = json.loads(capsys.readouterr().out)
    assert {r["other_number"] for r in rows} == {"004100001***", "1802"}


def test_no_principal_or_a_principal_with_nothing_sees_nothing(world):
    settings, _ = world
    con = warehouse.connect(settings)
    assert scope_filter(None).sql == "false"
    assert scoped_query(con, None, "select count(*) from my_calls").fetchone() == (0,)
    bare_supervisor = Principal("x", role="supervisor", departments=("", "  "))
    assert scope_filter(bare_supervisor).sql == "false"
    assert scoped_query(con, Principal("y"), "select count(*) from my_calls").fetchone() == (0,)


def test_a_user_role_ignores_departments_it_was_somehow_given(world):
    settings, _ = world
    sneaky = Principal("z", role="user", departments=("Sales",), cost_centres=("CC-100",))
    assert scope_filter(sneaky).sql == "false"


@pytest.mark.parametrize("name", PEOPLE)
def test_budget_gadget_recent_costed_calls(world, name):
    from warehouse import budgets

    settings, engine = world
    rows = budgets.costed_calls(settings, load_principal(engine, name), since=utc(2026, 3, 1), limit=100)
    admin = (
        warehouse.connect(settings)
        .execute(f"select {KEY}, extension, started_at from calls where billable and cost is not null")
        .fetchall()
    )
    assert {(r["extension"], r["started_at"]) for r in rows} == {(e, t) for k, e, t in admin if k in expected(name)}
    assert bool(rows) == (name != "nemo")
    assert all(r["other_number"].endswith("***") for r in rows)  # administrators too, unless they ask


def test_phone_lock_user_list_follows_the_supervisors_scope(world):
    from warehouse import phonelock

    _, engine = world

    def listed(name):
        return {r.user_id for r in phonelock.list_users(engine, load_principal(engine, name))}

    assert listed("sam") == {"cid", "dora"}
    assert listed("max") == {"ann", "ben", "nemo"}
    assert listed("root") == {"ann", "ben", "cid", "dora", "sam", "max", "root", "nemo"}
    with pytest.raises(PermissionError):
        listed("ann")
