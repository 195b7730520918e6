"""The directory domain in Dagster: the sync asset, its hourly schedule, and its place in the code location."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from pipelines.defs.directory import defs
from pipelines.defs.directory.assets import directory
from pipelines.defs.directory.schedules import directory_sync_schedule
from pipelines.defs.ingest.resources import RingledgerResource
from tests.cdrs import utc
from tests.ldapserver import SITES_TOML, free_port, openldap_toml
from warehouse import appdb
from warehouse.directory import last_sync


def tick(home):
    return dg.build_schedule_context(
        scheduled_execution_time=utc(2026, 3, 5, 10, 17), resources={"ringledger": RingledgerResource(home=str(home))}
    )


def test_the_schedule_skips_while_no_directory_is_configured(home):
    (home / "ringledger.toml").write_text(SITES_TOML)
    result = directory_sync_schedule(tick(home))
    assert isinstance(result, dg.SkipReason)
    assert "no directory server" in result.skip_message


@pytest.mark.ldap
def test_the_schedule_asks_for_a_run_when_a_directory_is_configured(home, ldap):
    (home / "ringledger.toml").write_text(openldap_toml(ldap))
    assert isinstance(directory_sync_schedule(tick(home)), dg.RunRequest)


def test_the_domain_defines_the_job_and_the_hourly_schedule(home):
    bound = dg.Definitions.merge(defs, dg.Definitions(resources={"ringledger": RingledgerResource(home=str(home))}))
    assert bound.resolve_job_def("directory_sync_job").name == "directory_sync_job"
    schedule = bound.resolve_schedule_def("directory_sync_schedule")
    assert schedule.cron_schedule == "17 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_code_location_has_the_directory_asset_job_and_schedule():
    from pipelines.definitions import defs as location

    keys = {k.to_user_string() for k in location.resolve_asset_graph().get_all_asset_keys()}
    assert "directory" in keys
    assert location.resolve_job_def("directory_sync_job")
    assert location.resolve_schedule_def("directory_sync_schedule")


@pytest.mark.ldap
def test_materializing_the_asset_syncs_the_directory(home, ldap):
    from warehouse.config import load_settings

    (home / "ringledger.toml").write_text(openldap_toml(ldap))
    resources = {"ringledger": RingledgerResource(home=str(home))}
    with dg.instance_for_test() as instance:
        result = dg.materialize([directory], instance=instance, resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("directory")[0].metadata
    assert metadata["created"].value == 6
    engine = appdb.open_db(load_settings())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(appdb.users)).scalar_one() == 6
    assert last_sync(engine).status == "warnings"


@pytest.mark.ldap
def test_a_failing_sync_fails_the_run_and_is_recorded(home, ldap):
    from warehouse.config import load_settings

    (home / "ringledger.toml").write_text(openldap_toml(ldap, url=f"ldap://127.0.0.1:{free_port()}"))
    resources = {"ringledger": RingledgerResource(home=str(home))}
    with dg.instance_for_test() as instance:
        result = dg.materialize([directory], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success
    assert last_sync(appdb.open_db(load_settings())).status == "failed"
