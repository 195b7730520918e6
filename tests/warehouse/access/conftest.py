"""Fixtures for directory, log-in and access tests: a real slapd, configured homes, crafted calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ldapserver import SERVICE_PASSWORD, SITES_TOML, Slapd, ad_toml, openldap_toml


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """One OpenLDAP server for the session, on 127.0.0.1 (stopped by its PID at the end)."""
    server = Slapd.start(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def ldap(slapd, monkeypatch) -> Slapd:
    """The server with its entries as `base_entries()` has them, and the service password in the environment."""
    slapd.reset()
    monkeypatch.setenv("RINGLEDGER_LDAP_PASSWORD", SERVICE_PASSWORD)
    return slapd


def configure(home: Path, text: str):
    """Write ringledger.toml in the home and return its settings."""
    from warehouse.config import load_settings

    (home / "ringledger.toml").write_text(text)
    return load_settings()


@pytest.fixture
def sites(home):
    """Settings with two sites (ZRH 1800-1899, MIL 2000-2099) and no directory server."""
    return configure(home, SITES_TOML)


@pytest.fixture
def ol(home, ldap):
    """Settings with the OpenLDAP preset (roles and a scope group from groups)."""
    return configure(home, openldap_toml(ldap))


@pytest.fixture
def ad(home, ldap):
    """Settings with the Active Directory preset (roles from memberOf)."""
    return configure(home, ad_toml(ldap))
