"""CDR ingest: inbox sensor, raw legs, calls and daily rollups, with checks."""

import dagster as dg

from pipelines.defs.ingest.assets import calls_and_rollups, raw_legs
from pipelines.defs.ingest.checks import calls_cover_raw_legs, reject_rate
from pipelines.defs.ingest.jobs import calls_refresh_job, ingest_job, inventory_refresh_job
from pipelines.defs.ingest.resources import default_resource
from pipelines.defs.ingest.sensors import cdr_inbox_sensor, changed_days_sensor, inventory_sensor

checks_job = dg.define_asset_job(
    "lake_checks_job",
    selection=dg.AssetSelection.checks(reject_rate, calls_cover_raw_legs),
    description="Run the lake's data checks",
)

defs = dg.Definitions(
    assets=[raw_legs, calls_and_rollups],
    asset_checks=[reject_rate, calls_cover_raw_legs],
    jobs=[ingest_job, calls_refresh_job, inventory_refresh_job, checks_job],
    sensors=[cdr_inbox_sensor, changed_days_sensor, inventory_sensor],
    schedules=[
        # every hour, on the hour
        dg.ScheduleDefinition(
            job=checks_job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
        )
    ],
    resources={"ringledger": default_resource()},
)
