"""The directory sync against a real slapd: people, roles from groups, managers, extensions, history."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from ldap3 import MODIFY_DELETE, MODIFY_REPLACE

import warehouse
from tests.cdrs import utc
from tests.ldapserver import OL_ADMINS, OL_SUFFIX, free_port, openldap_toml, person_ol
from tests.warehouse.access.conftest import configure
from warehouse import appdb, auth
from warehouse.access import load_principal
from warehouse.appdb import extension_assignment, users
from warehouse.audit import query_audit
from warehouse.directory import last_sync
from warehouse.ldap_directory import DirectorySyncError, sync

pytestmark = pytest.mark.ldap


def people(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(sa.select(users)).mappings()}


def open_extensions(engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(extension_assignment.c.extension, extension_assignment.c.user_id).where(
                extension_assignment.c.valid_to.is_(None)
            )
        ).all()
    return {ext: user for ext, user in rows}


def history(engine, extension: str) -> list[tuple]:
    ea = extension_assignment
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(ea.c.user_id, ea.c.valid_from, ea.c.valid_to)
                .where(ea.c.extension == extension)
                .order_by(ea.c.id)
            ).all()
        ]


def test_first_sync_creates_people_with_roles_managers_extensions_and_scopes(ol):
    engine = appdb.open_db(ol)
    result = sync(ol, engine)
    assert (result.created, result.updated, result.deactivated) == (6, 0, 0)
    found = people(engine)
    assert set(found) == {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert {n: p["role"] for n, p in found.items()} == {
        "alice": "user",
        "bob": "user",
        "carol": "supervisor",  # member of the supervisors group
        "dave": "administrator",  # member of the admins group
        "erin": "user",
        "frank": "supervisor",  # member of a scope group
    }
    assert found["alice"]["manager_id"] == "carol"
    assert found["alice"]["department"] == "Sales"
    assert found["alice"]["cost_centre"] == "CC-100"
    assert found["alice"]["source"] == "ldap"
    assert open_extensions(engine) == {"1801": "alice", "1802": "bob", "1810": "carol", "1820": "frank"}
    # erin's mobile is not inside any site's range: reported, not guessed
    assert any("erin" in w and "+41 79 555 12 34" in w for w in result.warnings)

    carol = load_principal(engine, "carol")
    assert carol.scope_source == "managed"
    assert carol.departments == ("Sales",)
    assert carol.cost_centres == ("CC-100",)
    frank = load_principal(engine, "frank")
    assert frank.scope_source == "explicit"
    assert (frank.departments, frank.cost_centres) == (("Sales",), ("CC-400",))

    status = last_sync(engine, "ldap")
    assert status.status == "warnings"
    assert (status.people, status.created, status.extensions_opened) == (6, 6, 4)
    assert query_audit(engine, action="directory.sync").entries[0].detail_data["created"] == 6
    # the snapshot is in the lake, where the calls view joins it
    con = warehouse.connect(ol)
    assert con.execute("select count(*) from directory_users where active").fetchone()[0] == 6


def test_later_syncs_update_deactivate_move_extensions_and_change_nothing_when_nothing_changed(ol, ldap):
    engine = appdb.open_db(ol)
    sync(ol, engine, when=utc(2026, 3, 1))
    admin = ldap.admin()
    admin.modify(f"uid=alice,ou=people,{OL_SUFFIX}", {"ou": [(MODIFY_REPLACE, ["Marketing"])]})
    admin.delete(f"uid=bob,ou=people,{OL_SUFFIX}")
    dn, attrs = person_ol("gwen", "Gwen Lang", "gwenpw", telephoneNumber="1802", ou="Sales", departmentNumber="CC-100")
    admin.add(dn, attrs.pop("objectClass"), attrs)
    admin.unbind()

    result = sync(ol, engine, when=utc(2026, 3, 15))
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (1, 1, 4, 1)
    found = people(engine)
    assert found["alice"]["department"] == "Marketing"
    assert not found["bob"]["active"]
    assert load_principal(engine, "bob") is None
    assert not auth.login(ol, engine, "bob", "bobpw").ok
    # bob's extension went to gwen: his calls until the 15th stay his
    assert history(engine, "1802") == [("bob", None, utc(2026, 3, 15)), ("gwen", utc(2026, 3, 15), None)]

    again = sync(ol, engine, when=utc(2026, 3, 16))
    assert (again.created, again.updated, again.deactivated, again.unchanged) == (0, 0, 0, 6)
    assert (again.extensions_assigned, again.extensions_closed) == (0, 0)


def test_someone_who_comes_back_is_reactivated(ol, ldap):
    engine = appdb.open_db(ol)
    sync(ol, engine)
    admin = ldap.admin()
    dn = f"uid=bob,ou=people,{OL_SUFFIX}"
    admin.delete(dn)
    sync(ol, engine)
    _, attrs = person_ol("bob", "Bob Keller", "bobpw", telephoneNumber="1802", ou="Sales", departmentNumber="CC-100")
    admin.add(dn, attrs.pop("objectClass"), attrs)
    admin.unbind()
    result = sync(ol, engine)
    assert result.reactivated == 1
    assert people(engine)["bob"]["active"]
    assert open_extensions(engine)["1802"] == "bob"


def test_leaving_a_role_group_changes_the_role_and_is_audited(ol, ldap):
    engine = appdb.open_db(ol)
    sync(ol, engine)
    admin = ldap.admin()
    admin.modify(OL_ADMINS, {"member": [(MODIFY_REPLACE, [f"uid=erin,ou=people,{OL_SUFFIX}"])]})
    admin.unbind()
    sync(ol, engine)
    found = people(engine)
    assert found["dave"]["role"] == "user"
    assert found["erin"]["role"] == "administrator"
    changes = {e.target: e.detail_data for e in query_audit(engine, action="user.role").entries}
    assert changes == {"dave": {"from": "administrator", "to": "user"}, "erin": {"from": "user", "to": "administrator"}}
    assert query_audit(engine, action="user.role").entries[0].actor == "system:directory_sync"


def test_ad_preset_reads_memberof_ipphone_managers_and_skips_disabled_accounts(ad):
    engine = appdb.open_db(ad)
    result = sync(ad, engine)
    found = people(engine)
    assert set(found) == {"erik", "fiona", "gino", "hugo"}  # dan is disabled (userAccountControl 514)
    assert result.created == 4
    assert found["fiona"]["role"] == "administrator"
    assert found["hugo"]["role"] == "supervisor"
    assert found["erik"]["role"] == "user"
    assert found["erik"]["manager_id"] == "fiona"
    assert found["gino"]["manager_id"] == "fiona"
    assert found["erik"]["department"] == "Finance"
    assert found["erik"]["cost_centre"] == "CC-200"  # extensionAttribute1
    assert found["erik"]["display_name"] == "Erik Berg"
    # ipPhone 2001 for erik; gino has only +39 02 1234 2003, an Italian number ending in MIL's range
    assert open_extensions(engine) == {"2001": "erik", "2002": "fiona", "2003": "gino", "2010": "hugo"}


def test_a_failed_sync_is_recorded_and_changes_nothing(home, ldap):
    settings = configure(home, openldap_toml(ldap, url=f"ldap://127.0.0.1:{free_port()}"))
    engine = appdb.open_db(settings)
    with pytest.raises(DirectorySyncError, match="no directory server answered"):
        sync(settings, engine)
    status = last_sync(engine)
    assert status.status == "failed"
    assert "no directory server answered" in status.error
    assert query_audit(engine, action="directory.sync").entries[0].detail_data["error"]


def test_a_filter_that_finds_nobody_does_not_deactivate_everyone(home, ldap):
    settings = configure(home, openldap_toml(ldap))
    engine = appdb.open_db(settings)
    sync(settings, engine)
    wrong = configure(home, openldap_toml(ldap, extra='user_filter = "(objectClass=posixAccount)"'))
    with pytest.raises(DirectorySyncError, match="returned nobody"):
        sync(wrong, engine)
    assert all(p["active"] for p in people(engine).values())


def test_an_account_switched_off_by_an_administrator_stays_off(ol):
    from warehouse.accounts import set_active

    engine = appdb.open_db(ol)
    sync(ol, engine)
    set_active(engine, "dave", "alice", False)
    sync(ol, engine)
    assert not people(engine)["alice"]["active"]


def test_an_extension_listed_for_two_people_stays_with_its_holder(ol, ldap):
    engine = appdb.open_db(ol)
    sync(ol, engine)
    admin = ldap.admin()
    admin.modify(f"uid=erin,ou=people,{OL_SUFFIX}", {"telephoneNumber": [(MODIFY_REPLACE, ["1801"])]})
    admin.unbind()
    result = sync(ol, engine)
    assert open_extensions(engine)["1801"] == "alice"
    assert any("1801" in w and "alice" in w and "erin" in w for w in result.warnings)


def test_managers_become_supervisors_when_configured(home, ldap):
    settings = configure(home, openldap_toml(ldap, roles=False, extra="managers_are_supervisors = true"))
    engine = appdb.open_db(settings)
    sync(settings, engine)
    roles = {n: p["role"] for n, p in people(engine).items()}
    assert roles["carol"] == "supervisor"
    assert roles["alice"] == "user"


def test_without_role_groups_roles_set_in_ringledger_survive_a_sync(home, ldap):
    from warehouse.accounts import set_role

    settings = configure(home, openldap_toml(ldap, roles=False))
    engine = appdb.open_db(settings)
    sync(settings, engine)
    set_role(engine, "cli:root", "alice", "supervisor")
    sync(settings, engine)
    assert people(engine)["alice"]["role"] == "supervisor"


def test_a_local_account_of_the_same_name_is_taken_over_by_the_directory(ol):
    from warehouse.accounts import create_user

    engine = appdb.open_db(ol)
    create_user(engine, "cli:root", "alice", password="local-password-1")
    sync(ol, engine)
    found = people(engine)["alice"]
    assert found["source"] == "ldap"
    assert found["password_hash"] is None
    assert not auth.login(ol, engine, "alice", "local-password-1").ok
    assert auth.login(ol, engine, "alice", "alicepw").ok


def test_removing_a_phone_closes_the_extension(ol, ldap):
    engine = appdb.open_db(ol)
    sync(ol, engine, when=utc(2026, 3, 1))
    admin = ldap.admin()
    admin.modify(f"uid=frank,ou=people,{OL_SUFFIX}", {"telephoneNumber": [(MODIFY_DELETE, [])]})
    admin.unbind()
    result = sync(ol, engine, when=utc(2026, 3, 10))
    assert result.extensions_closed == 1
    assert history(engine, "1820") == [("frank", None, utc(2026, 3, 10))]
