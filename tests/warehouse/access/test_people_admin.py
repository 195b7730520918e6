"""What the People and roles and Directory sync pages call: filtered lists, and a directory file import."""

from __future__ import annotations

import pytest

from warehouse import accounts, appdb, directory
from warehouse.audit import query_audit
from warehouse.lake import Lake

pytestmark = pytest.mark.app_databases

HEADER = "username,display_name,department,cost_centre,site,role,extensions\n"


def test_people_are_filtered_by_department_cost_centre_site_source_role_and_state(sites, tmp_path):
    engine = appdb.open_db(sites)
    people = tmp_path / "people.csv"
    people.write_text(
        HEADER
        + "anna,Anna,Sales,CC-1,ZRH,user,1801\n"
        + "bruno,Bruno,Sales,CC-2,MIL,supervisor,2001\n"
        + "carla,Carla,Support,CC-2,MIL,user,2002\n"
    )
    directory.import_csv(engine, people, "admin", Lake(sites.lake_dir))
    accounts.create_user(engine, "admin", "root", role="administrator", department="IT")
    accounts.set_active(engine, "admin", "carla", False)

    def names(**filters) -> list[str]:
        rows, total = accounts.list_users(engine, **filters)
        assert total == len(rows)
        return [r.username for r in rows]

    assert names(department="Sales") == ["anna", "bruno"]
    assert names(cost_centre="CC-2") == ["bruno", "carla"]
    assert names(site="MIL", active=True) == ["bruno"]
    assert names(source="local") == ["root"]
    assert names(role="supervisor") == ["bruno"]
    rows, _total = accounts.list_users(engine, search="anna")
    assert rows[0].site == "ZRH"
    assert rows[0].extensions == ("1801",)
    values = accounts.directory_values(engine)
    assert values["department"] == ["IT", "Sales", "Support"]
    assert values["source"] == ["csv", "local"]


def test_a_directory_file_import_keeps_good_lines_names_bad_ones_and_is_recorded(sites, tmp_path):
    engine = appdb.open_db(sites)
    kept = tmp_path / "kept-here-meanwhile.csv"
    kept.write_text(HEADER + "anna,Anna,Sales,CC-1,ZRH,user,1801\nbruno,Bruno,Sales,CC-2,MIL,boss,2001\n")

    result, people, errors = directory.import_csv(engine, kept, "admin", name="staff.csv")

    assert (result.created, people) == (1, 1)
    assert errors == ["staff.csv: line 3: role 'boss' is not one of user, supervisor, administrator"]
    last = directory.last_sync(engine)
    assert last.source == "csv"
    assert last.status == "warnings"
    assert last.warnings == errors
    entry = query_audit(engine, action="directory.import").entries[0]
    assert (entry.actor, entry.target) == ("admin", "staff.csv")
