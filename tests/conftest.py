"""Fixtures every test area shares: a throwaway data home with its own settings."""

from __future__ import annotations

from pathlib import Path

import pytest

# Real services on 127.0.0.1 (SMTP, the CUCM double, the live phone service).
pytest_plugins = ["tests.services"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "samples" / "cucm"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty RINGLEDGER_HOME for one test, with no configuration file."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    monkeypatch.delenv("RINGLEDGER_CONFIG", raising=False)
    monkeypatch.delenv("RINGLEDGER_DATABASE_URL", raising=False)
    yield home
    from warehouse import appdb, views

    views.reset()
    appdb.dispose_all()


@pytest.fixture
def settings(home):
    """Settings of the throwaway home."""
    from warehouse.config import load_settings

    return load_settings()
