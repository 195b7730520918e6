"""Fixtures every test area shares: a throwaway data home with its own settings.

A test module marked `app_databases` runs each of its tests twice: on the default SQLite app database
and on a real PostgreSQL server on 127.0.0.1 (a database of its own per test), as `[database] url` would
configure it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Real services on 127.0.0.1 (SMTP, the CUCM double, the live phone service).
pytest_plugins = ["tests.services"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "samples" / "cucm"


def pytest_generate_tests(metafunc) -> None:
    if "home" in metafunc.fixturenames and metafunc.definition.get_closest_marker("app_databases"):
        metafunc.parametrize("app_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def app_database(request) -> str:
    """Which app database the test's data home uses: sqlite, or postgresql in `app_databases` modules."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1 for the whole session."""
    from tests.pgserver import Postgres

    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path, monkeypatch, request, app_database) -> Path:
    """An empty RINGLEDGER_HOME for one test, with no configuration file."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    monkeypatch.delenv("RINGLEDGER_CONFIG", raising=False)
    monkeypatch.delenv("RINGLEDGER_DATABASE_URL", raising=False)
    database = server = None
    if app_database == "postgresql":
        server = request.getfixturevalue("postgres")
        database = server.create_database()
        monkeypatch.setenv("RINGLEDGER_DATABASE_URL", server.url(database))
    yield home
    from warehouse import appdb, views

    views.reset()
    appdb.dispose_all()
    if server is not None and database is not None:
        server.drop_database(database)


@pytest.fixture
def settings(home):
    """Settings of the throwaway home."""
    from warehouse.config import load_settings

    return load_settings()
