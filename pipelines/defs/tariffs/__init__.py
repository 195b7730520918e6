"""Tariffs: the tariff files as an observed source, and re-rating of the days a change touches."""

import dagster as dg

from pipelines.defs.ingest.resources import default_resource
from pipelines.defs.tariffs.assets import TARIFF_FILES, tariff_files
from pipelines.defs.tariffs.jobs import tariff_rerate_job
from pipelines.defs.tariffs.sensors import tariff_change_sensor

tariff_observation_job = dg.define_asset_job(
    "tariff_observation_job",
    selection=dg.AssetSelection.assets(TARIFF_FILES),
    description="Observe the tariff files now (the sensor does it every 30 seconds)",
)

defs = dg.Definitions(
    assets=[tariff_files],
    jobs=[tariff_rerate_job, tariff_observation_job],
    sensors=[tariff_change_sensor],
    resources={"ringledger": default_resource()},
)
