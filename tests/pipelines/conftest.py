"""Fixtures for pipeline tests: a real slapd for the directory sync."""

from __future__ import annotations

import pytest

from tests.ldapserver import SERVICE_PASSWORD, Slapd


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    """One OpenLDAP server for the session, on 127.0.0.1 (stopped by its PID at the end)."""
    server = Slapd.start(tmp_path_factory.mktemp("slapd"))
    yield server
    server.stop()


@pytest.fixture
def ldap(slapd, monkeypatch) -> Slapd:
    """The server with its original entries, and the service password in the environment."""
    slapd.reset()
    monkeypatch.setenv("RINGLEDGER_LDAP_PASSWORD", SERVICE_PASSWORD)
    return slapd
