"""The Dagster side of tariffs: the files are observed, and a change re-rates exactly the days it touches."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest

import warehouse
from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.tariffs import defs as tariff_defs
from pipelines.defs.tariffs.sensors import tariff_change_sensor
from tests.warehouse.company import make_company


@pytest.fixture
def company(home):
    return make_company(home)


def london_cost(settings) -> Decimal:
    con = warehouse.connect(settings)
    return con.execute("SELECT cost FROM calls WHERE call_id = 'Ravello:1:6'").fetchone()[0]


def test_code_location_has_the_tariff_graph():
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"tariff_files", "calls"} <= keys
    assert defs.resolve_sensor_def("tariff_change_sensor")
    assert defs.resolve_job_def("tariff_rerate_job")


def test_a_tariff_change_re_rates_the_days_it_touches(company):
    resource = RingledgerResource(home=str(company.home))
    assert london_cost(company) == Decimal("0.02106")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"ringledger": resource})
        first = tariff_change_sensor(ctx)
        # the first look records the tariffs; nothing is priced with other versions
        assert isinstance(first, dg.SensorResult)
        assert first.run_requests == []
        assert first.asset_events[0].asset_key == dg.AssetKey("tariff_files")
        ctx = dg.build_sensor_context(instance=instance, resources={"ringledger": resource}, cursor=first.cursor)
        assert isinstance(tariff_change_sensor(ctx), dg.SkipReason)

        rates = company.tariffs_dir / "uk-carrier" / "rates-2025.csv"
        rates.write_text(
            rates.read_text().replace(
                ",GB local,UK local (same area),day,0.009,", ",GB local,UK local (same area),day,0.018,"
            )
        )
        changed = tariff_change_sensor(ctx)
        assert isinstance(changed, dg.SensorResult)
        assert [r.tags["ringledger/first_day"] for r in changed.run_requests] == ["2025-06-06"]

        job = tariff_defs.resolve_job_def("tariff_rerate_job")
        result = job.execute_in_process(resources={"ringledger": resource}, instance=instance)
        assert result.success
        assert result.output_for_node("rerate_changed_days") == ["2025-06-06"]
        calls = instance.get_latest_materialization_event(dg.AssetKey("calls"))
        assert calls.dagster_event.partition == "2025-06-06"
    assert london_cost(company) == Decimal("0.04212")


def test_the_tariff_files_are_observed_with_a_data_version(company):
    resource = RingledgerResource(home=str(company.home))
    with dg.instance_for_test() as instance:
        job = tariff_defs.resolve_job_def("tariff_observation_job")
        assert job.execute_in_process(resources={"ringledger": resource}, instance=instance).success
        record = instance.fetch_observations(dg.AssetKey("tariff_files"), limit=1).records[0]
        assert len(record.asset_observation.data_version) == 16
