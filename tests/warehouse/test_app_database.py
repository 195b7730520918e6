"""The app database on SQLite and on PostgreSQL: the migrations build exactly the schema the code
declares, running them again changes nothing, and values come back as they went in."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from warehouse import appdb

pytestmark = pytest.mark.app_databases

# every module that declares tables of the app database
TABLE_MODULES = (
    "warehouse.access",
    "warehouse.api_tokens",
    "warehouse.auth",
    "warehouse.budgets",
    "warehouse.directory",
    "warehouse.enforcement",
    "warehouse.mail",
    "warehouse.phonelock",
    "warehouse.preferences",
    "warehouse.reports.store",
    "warehouse.runtime_settings",
    "warehouse.schedules",
)


def test_the_migrations_build_the_schema_the_code_declares(settings, app_database):
    for module in TABLE_MODULES:
        importlib.import_module(module)
    engine = appdb.open_db(settings)
    assert engine.dialect.name == app_database
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), appdb.metadata)
    assert differences == []


def test_upgrading_again_changes_nothing(settings):
    engine = appdb.open_db(settings)
    url = settings.database_url
    heads = set(ScriptDirectory.from_config(appdb.alembic_config(url)).get_heads())
    with engine.begin() as conn:
        cfg = appdb.alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    with engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
        assert conn.execute(sa.select(sa.func.count()).select_from(appdb.users)).scalar_one() == 0


def test_times_come_back_aware_in_utc_and_amounts_exact(settings):
    from warehouse.budgets import Money

    engine = appdb.open_db(settings)
    probe = sa.Table("probe", sa.MetaData(), sa.Column("at", appdb.UtcDateTime), sa.Column("amount", Money))
    probe.create(engine)
    at = datetime(2026, 3, 29, 3, 30, 0, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(probe.insert(), [{"at": at, "amount": Decimal("1234567.000001")}])
    with engine.connect() as conn:
        row = conn.execute(sa.select(probe)).one()
    assert row.at == at
    assert row.at.tzinfo is UTC
    assert row.amount == Decimal("1234567.000001")
