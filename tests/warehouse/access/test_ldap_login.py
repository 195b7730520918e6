"""Log-in against a real directory: right and wrong passwords, unknown users, injection, lock-out, TLS."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from ldap3.utils.dn import escape_rdn

from tests.ldapserver import ad_toml, free_port, openldap_toml, person_ol
from tests.warehouse.access.conftest import configure
from warehouse import appdb, auth
from warehouse.audit import query_audit

pytestmark = pytest.mark.ldap


def test_directory_user_logs_in_with_the_directory_password_and_is_provisioned(ol):
    engine = appdb.open_db(ol)
    result = auth.login(ol, engine, "alice", "alicepw")
    assert result.ok, result.error
    p = result.principal
    assert p.user_id == "alice"
    assert p.display_name == "Alice Muster"
    assert p.role == "user"
    # the phone +41 44 668 1801 is extension 1801 of site ZRH (CH, 1800-1899)
    assert p.extensions == ("1801",)
    assert p.language == "de"
    token = auth.start_session(ol, engine, p, "gadget")
    assert auth.session_principal(ol, engine, token, "gadget").user_id == "alice"


def test_ad_user_logs_in_by_sam_account_name_case_insensitively(ad):
    engine = appdb.open_db(ad)
    result = auth.login(ad, engine, "ERIK", "erikpw")
    assert result.ok, result.error
    assert result.principal.user_id == "erik"
    assert result.principal.extensions == ("2001",)  # ipPhone wins over telephoneNumber
    fiona = auth.login(ad, engine, "fiona", "fionapw").principal
    assert fiona.role == "administrator"  # memberOf the admin group (configured in lower case)


def test_wrong_password_unknown_user_and_empty_password_all_say_the_same(ol):
    engine = appdb.open_db(ol)
    wrong = auth.login(ol, engine, "alice", "nope")
    unknown = auth.login(ol, engine, "nobody", "alicepw")
    empty = auth.login(ol, engine, "alice", "")
    assert not wrong.ok
    assert not unknown.ok
    assert not empty.ok
    assert wrong.error == unknown.error == empty.error == auth.BAD_CREDENTIALS
    failed = query_audit(engine, action="login.failed").entries
    assert {e.actor for e in failed} == {"alice", "nobody"}


def test_disabled_ad_account_cannot_log_in(ad):
    engine = appdb.open_db(ad)
    assert not auth.login(ad, engine, "dan", "danpw").ok  # userAccountControl 514: outside the AD user filter


@pytest.mark.parametrize(
    "name",
    ["*", "*)(uid=*", "al*", "alice)(|(uid=*", "*)(|(objectClass=*)", "alice\\", "alice\x00"],
)
def test_filter_characters_in_the_user_name_match_nobody(ol, name):
    engine = appdb.open_db(ol)
    result = auth.login(ol, engine, name, "alicepw")
    assert not result.ok
    assert result.error == auth.BAD_CREDENTIALS
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(appdb.users)).scalar_one() == 0


def test_the_search_filter_escapes_the_user_name(ol):
    from warehouse.ldap_directory import user_filter

    text = user_filter(ol.ldap, "*)(uid=*")
    assert text == "(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a))"


def test_lockout_after_repeated_failures_then_the_right_password_is_refused_too(ol):
    engine = appdb.open_db(ol)
    limit = ol.login.max_failures
    for _ in range(limit - 1):
        assert auth.login(ol, engine, "bob", "wrong").error == auth.BAD_CREDENTIALS
    locking = auth.login(ol, engine, "bob", "wrong")
    assert "Too many failed log-ins" in locking.error
    refused = auth.login(ol, engine, "Bob", "bobpw")  # the lock is per user name, whatever its case
    assert not refused.ok
    assert "Too many failed log-ins" in refused.error
    assert query_audit(engine, action="login.locked").total == 1
    assert query_audit(engine, action="login.refused_locked").total == 1
    # when the lock has run out, the right password works again and clears the count
    with engine.begin() as conn:
        conn.execute(sa.update(auth.login_throttle).values(locked_until=appdb.utcnow() - timedelta(seconds=1)))
    assert auth.login(ol, engine, "bob", "bobpw").ok
    assert auth.locked_until(engine, "bob") is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(auth.login_throttle)).scalar_one() == 0


def test_unknown_user_names_lock_like_known_ones(ol):
    engine = appdb.open_db(ol)
    errors = [auth.login(ol, engine, "ghost", "x").error for _ in range(ol.login.max_failures + 1)]
    assert errors[0] == auth.BAD_CREDENTIALS
    assert "Too many failed log-ins" in errors[-1]


def test_lockout_limits_come_from_the_configuration(home, ldap):
    settings = configure(home, "[login]\nmax_failures = 2\nlockout_minutes = 30\n" + openldap_toml(ldap))
    engine = appdb.open_db(settings)
    auth.login(settings, engine, "alice", "x")
    second = auth.login(settings, engine, "alice", "x")
    assert "30 minutes" in second.error


def test_every_login_failure_and_logout_is_audited(ol):
    engine = appdb.open_db(ol)
    result = auth.login(ol, engine, "carol", "carolpw", "portal", remote="10.0.0.9")
    auth.login(ol, engine, "carol", "bad", "gadget")
    token = auth.start_session(ol, engine, result.principal, "portal")
    auth.end_session(engine, token)
    entries = query_audit(engine, actor="carol").entries
    assert [e.action for e in reversed(entries)] == ["login", "login.failed", "logout"]
    assert entries[-1].target == "portal"
    assert entries[-1].detail_data["remote"] == "10.0.0.9"
    assert entries[1].target == "gadget"


def test_directory_down_is_not_a_wrong_password(home, ldap):
    settings = configure(home, openldap_toml(ldap, url=f"ldap://127.0.0.1:{free_port()}"))
    engine = appdb.open_db(settings)
    for _ in range(settings.login.max_failures + 1):
        result = auth.login(settings, engine, "alice", "alicepw")
        assert result.error == auth.DIRECTORY_DOWN
    assert auth.locked_until(engine, "alice") is None
    entry = query_audit(engine, action="login.failed").entries[0]
    assert entry.detail_data["reason"] == "directory unreachable"


def test_a_second_server_is_tried_when_the_first_does_not_answer(home, ldap):
    text = openldap_toml(ldap).replace(
        f'urls = ["{ldap.url}"]', f'urls = ["ldap://127.0.0.1:{free_port()}", "{ldap.url}"]'
    )
    settings = configure(home, text)
    assert auth.login(settings, appdb.open_db(settings), "alice", "alicepw").ok


def test_wrong_service_password_is_reported_as_the_directory_being_unavailable(ol, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_LDAP_PASSWORD", "not-it")
    result = auth.login(ol, appdb.open_db(ol), "alice", "alicepw")
    assert result.error == auth.DIRECTORY_DOWN


def test_ldaps_with_the_company_ca(home, ldap):
    settings = configure(home, openldap_toml(ldap, url=ldap.tls_url, extra=f'ca_file = "{ldap.ca_file}"'))
    assert auth.login(settings, appdb.open_db(settings), "alice", "alicepw").ok


def test_start_tls_with_the_company_ca(home, ldap):
    url = ldap.url.replace("127.0.0.1", "localhost")
    settings = configure(home, openldap_toml(ldap, url=url, extra=f'start_tls = true\nca_file = "{ldap.ca_file}"'))
    assert auth.login(settings, appdb.open_db(settings), "alice", "alicepw").ok


def test_a_server_certificate_from_another_ca_is_refused(home, ldap):
    settings = configure(home, openldap_toml(ldap, url=ldap.tls_url, extra=f'ca_file = "{ldap.other_ca_file}"'))
    result = auth.login(settings, appdb.open_db(settings), "alice", "alicepw")
    assert result.error == auth.DIRECTORY_DOWN
    detail = query_audit(appdb.open_db(settings), action="login.failed").entries[0].detail_data
    assert "certificate" in detail["error"].lower()


def test_tls_verify_off_accepts_any_certificate(home, ldap):
    settings = configure(
        home, openldap_toml(ldap, url=ldap.tls_url, extra=f'ca_file = "{ldap.other_ca_file}"\ntls_verify = false')
    )
    assert auth.login(settings, appdb.open_db(settings), "alice", "alicepw").ok


def test_local_account_still_works_when_a_directory_is_configured(ol):
    from warehouse.accounts import create_user

    engine = appdb.open_db(ol)
    create_user(engine, "cli:root", "breakglass", role="administrator", password="long-enough-1")
    result = auth.login(ol, engine, "breakglass", "long-enough-1")
    assert result.ok
    assert result.principal.is_admin
    assert not auth.login(ol, engine, "breakglass", "wrong-one").ok


def test_switched_off_directory_user_cannot_log_in(ol):
    from warehouse.accounts import set_active

    engine = appdb.open_db(ol)
    assert auth.login(ol, engine, "alice", "alicepw").ok
    set_active(engine, "dave", "alice", False)
    assert not auth.login(ol, engine, "alice", "alicepw").ok


def test_ad_preset_configuration_is_accepted(ldap, home):
    settings = configure(home, ad_toml(ldap))
    assert settings.ldap.mapping()["username"] == ["sAMAccountName"]
    assert settings.ldap.mapping()["phones"] == ["ipPhone", "telephoneNumber"]


@pytest.mark.parametrize("uid", ["jürgen", "t(x)*", "back\\slash"])
def test_real_names_with_special_characters_still_log_in(ol, ldap, uid):
    _, attrs = person_ol("special", "Special Person", "specialpw", telephoneNumber="1830")
    attrs["uid"] = uid
    admin = ldap.admin()
    assert admin.add(f"uid={escape_rdn(uid)},ou=people,dc=example,dc=org", attrs.pop("objectClass"), attrs), (
        admin.result
    )
    admin.unbind()
    engine = appdb.open_db(ol)
    result = auth.login(ol, engine, uid, "specialpw")
    assert result.ok, result.error
    assert result.principal.user_id == uid
    assert not auth.login(ol, engine, uid[:2] + "*", "specialpw").ok
