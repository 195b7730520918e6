"""The Dagster side of ingest: the code location loads, the inbox sensor fires, runs land calls."""

from __future__ import annotations

import os
import shutil
import time

import dagster as dg
import pytest

import warehouse
from pipelines.defs.ingest import defs as ingest_defs
from pipelines.defs.ingest.assets import calls_and_rollups, raw_legs
from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.ingest.sensors import cdr_inbox_sensor
from tests.conftest import SAMPLES

pytestmark = pytest.mark.app_databases

DENIKOND = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("denikond"))


@pytest.fixture
def resource(home):
    return RingledgerResource(home=str(home))


def drop_into_inbox(settings, paths, age_s=5):
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    old = time.time() - age_s
    for p in paths:
        target = inbox / p.name.split("__")[-1]
        shutil.copy(p, target)
        os.utime(target, (old, old))
    return inbox


def test_code_location_has_the_ingest_graph():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_cdr", "raw_cmr", "calls", "daily_rollups"} <= keys
    assert defs.resolve_sensor_def("cdr_inbox_sensor")
    assert defs.resolve_job_def("ingest_job")


def test_sensor_skips_an_empty_inbox_and_files_still_being_written(settings, resource):
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"ringledger": resource})
        assert isinstance(cdr_inbox_sensor(ctx), dg.SkipReason)
        inbox = drop_into_inbox(settings, DENIKOND[:1])
        (inbox / "_cdr_RavelloCluster_01_202611271000_1").write_text("partial")
        fresh = inbox / "cdr_RavelloCluster_01_202611271001_2"
        fresh.write_text("still arriving")  # modified just now: not settled
        result = cdr_inbox_sensor(ctx)
        assert isinstance(result, dg.RunRequest)


def test_ingest_job_loads_the_inbox_and_reports_the_days(settings, resource):
    drop_into_inbox(settings, DENIKOND)
    with dg.instance_for_test() as instance:
        job = ingest_defs.resolve_job_def("ingest_job")
        result = job.execute_in_process(resources={"ringledger": resource}, instance=instance)
        assert result.success
        out = result.output_for_node("ingest_inbox")
        assert out["files"] == len(DENIKOND)
        assert out["days"] == ["2021-12-13"]
        calls = instance.get_latest_materialization_event(dg.AssetKey("calls"))
        assert calls is not None
        assert calls.dagster_event.partition == "2021-12-13"
    assert list(settings.inbox_dir.iterdir()) == []
    con = warehouse.connect(settings)
    assert con.execute("select count(*) from cdr").fetchone()[0] == 60
    assert con.execute("select count(*) from calls where day = date '2021-12-13'").fetchone()[0] > 60


def test_materialising_a_day_rebuilds_it_from_the_archive(settings, resource):
    from warehouse.ingest import Ingestor

    Ingestor(settings).ingest(DENIKOND)
    con = warehouse.connect(settings)
    before = con.execute("select count(*), sum(duration_s) from calls").fetchone()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [raw_legs, calls_and_rollups],
            partition_key="2021-12-13",
            resources={"ringledger": resource},
            instance=instance,
        )
        assert result.success
    after = warehouse.connect(settings).execute("select count(*), sum(duration_s) from calls").fetchone()
    assert after == before


def test_a_changed_device_inventory_stores_the_offers_and_the_gateway_load_again(home, settings, resource):
    from pipelines.defs.ingest.sensors import inventory_sensor
    from warehouse import gateway_load, offers
    from warehouse.ingest import Ingestor
    from warehouse.lake import Lake

    Ingestor(settings).ingest(DENIKOND)
    lake = Lake(settings.lake_dir)
    before = {name: lake.files(name) for name in ("offers", "gateway_load")}
    assert all(before.values())  # the ingest stored the day's offers and gateway load
    job = ingest_defs.resolve_job_def("inventory_refresh_job")
    config = home / "ringledger.toml"
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"ringledger": resource})
        assert isinstance(inventory_sensor(ctx), dg.SkipReason)
        # an administrator names the voicemail ports: the stored offers counted them as lines
        config.write_text('[[devices]]\ndevice = "VM-*"\nkind = "voicemail"\n', encoding="utf-8")
        assert offers.stale_days(resource.settings())
        assert not gateway_load.stale_days(resource.settings())
        assert isinstance(inventory_sensor(ctx), dg.RunRequest)
        assert job.execute_in_process(resources={"ringledger": resource}, instance=instance).success
        assert isinstance(inventory_sensor(ctx), dg.SkipReason)
        assert not set(before["offers"]) & set(lake.files("offers"))
        assert set(before["gateway_load"]) == set(lake.files("gateway_load"))
        # and gives a gateway its channels: the stored load carried the ones from before
        (device,) = (
            warehouse.connect(settings)
            .execute("select lower(any_value(gateway_device)) from calls where trunk_leg_id is not null")
            .fetchone()
        )
        assert device
        with config.open("a", encoding="utf-8") as out:
            out.write(f'[[devices]]\ndevice = "{device}"\nkind = "gateway"\nchannels = 60\n')
        assert gateway_load.stale_days(resource.settings())
        assert isinstance(inventory_sensor(ctx), dg.RunRequest)
        assert job.execute_in_process(resources={"ringledger": resource}, instance=instance).success
        assert isinstance(inventory_sensor(ctx), dg.SkipReason)
    assert not set(before["gateway_load"]) & set(lake.files("gateway_load"))
    assert gateway_load.stale_days(resource.settings()) == [] == offers.stale_days(resource.settings())


def test_with_a_storage_url_dagster_keeps_its_runs_in_postgresql(home, settings, resource, postgres, monkeypatch):
    import psycopg

    from ringledger.commands.run import dagster_home
    from warehouse.config import load_settings

    database = postgres.create_database()
    try:
        # the same URL form as [database] url
        (home / "ringledger.toml").write_text(f'[dagster]\nstorage_url = "{postgres.url(database)}"\n')
        monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(load_settings())))
        drop_into_inbox(settings, DENIKOND)
        with dg.DagsterInstance.get() as instance:
            job = ingest_defs.resolve_job_def("ingest_job")
            result = job.execute_in_process(resources={"ringledger": resource}, instance=instance)
            assert result.success
            calls = instance.get_latest_materialization_event(dg.AssetKey("calls"))
            assert calls is not None
            assert calls.dagster_event.partition == "2021-12-13"
        # kept in PostgreSQL, not in files under the Dagster home
        with psycopg.connect(postgres.dsn(database)) as conn:
            assert conn.execute("select count(*) from runs").fetchone() == (1,)
        assert not list((home / "dagster").rglob("*.db"))
    finally:
        postgres.drop_database(database)
