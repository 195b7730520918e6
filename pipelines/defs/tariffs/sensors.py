"""A change of the tariff files re-rates the days it touches."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.tariffs.assets import TARIFF_FILES, observe_tariffs
from pipelines.defs.tariffs.jobs import tariff_rerate_job
from warehouse.rating import affected_days

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
# Every 30 seconds: cheap (file sizes and times) until something changes.
INTERVAL_S = 30


@dg.sensor(
    job=tariff_rerate_job,
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Observes the tariff files; when they change, re-rates the days priced with changed versions",
)
def tariff_change_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Record a new observation of the tariffs and request a re-rate of the affected days."""
    version, metadata = observe_tariffs(ringledger)
    if version == context.cursor:
        return dg.SkipReason("tariff files unchanged")
    busy = any(
        context.instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=ACTIVE), limit=1)
        for job in ("ingest_job", "calls_refresh_job", "tariff_rerate_job")
    )
    if busy:
        return dg.SkipReason("tariffs changed; waiting for the running ingest or rebuild")
    days = affected_days(ringledger.settings())
    observation = dg.AssetObservation(
        asset_key=TARIFF_FILES,
        metadata={**metadata, "days_to_rerate": len(days)},
        tags={"dagster/data_version": version},
    )
    requests = []
    if days:
        requests.append(
            dg.RunRequest(
                run_key=f"tariffs-{version}",
                tags={"ringledger/days": str(len(days)), "ringledger/first_day": str(days[0])},
            )
        )
    return dg.SensorResult(run_requests=requests, asset_events=[observation], cursor=version)
