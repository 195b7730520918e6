"""Sensors: new complete files in the inbox, and days waiting for a rebuild."""

import time

import dagster as dg

from pipelines.defs.ingest.jobs import calls_refresh_job, ingest_job, inventory_refresh_job
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import gateway_load, offers
from warehouse.cucm import is_complete_name
from warehouse.ingest import Ingestor

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
# Every 2 seconds: a new CDR file should show in the portal within 10 seconds of arriving.
INBOX_INTERVAL_S = 2


def _busy(context, *jobs: str) -> bool:
    return any(context.instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=ACTIVE), limit=1) for job in jobs)


def complete_files(settings) -> list[str]:
    """Names of inbox files that are complete: not '_'-prefixed and unchanged for the settle time."""
    inbox = settings.inbox_dir
    if not inbox.exists():
        return []
    now = time.time()
    names = []
    for path in inbox.rglob("*"):
        settled = path.is_file() and now - path.stat().st_mtime >= settings.ingest.settle_seconds
        if settled and is_complete_name(path.name):
            names.append(str(path.relative_to(inbox)))
    return sorted(names)


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=INBOX_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts an ingest when complete CDR/CMR files are waiting in the inbox",
)
def cdr_inbox_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Request an ingest run for new complete files (one run at a time)."""
    files = complete_files(ringledger.settings())
    if not files:
        return dg.SkipReason("inbox is empty")
    if _busy(context, "ingest_job", "calls_refresh_job"):
        return dg.SkipReason(f"{len(files)} file(s) waiting for the ingest that is running")
    return dg.RunRequest(tags={"ringledger/files": str(len(files))})


@dg.sensor(
    job=calls_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds days marked as changed (late files, tariff or configuration changes)",
)
def changed_days_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Request a rebuild when days are waiting for one and no ingest is running."""
    days = Ingestor(ringledger.settings()).pending_days()
    if not days:
        return dg.SkipReason("no day waits for a rebuild")
    if _busy(context, "ingest_job", "calls_refresh_job"):
        return dg.SkipReason("an ingest or rebuild is running")
    return dg.RunRequest(tags={"ringledger/days": str(len(days))})


@dg.sensor(
    job=inventory_refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Stores the offers and the gateway load again when the device inventory changed",
)
def inventory_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Request a refresh of what was stored with another inventory; until then reports work it out from the calls."""
    settings = ringledger.settings()
    days = set(offers.stale_days(settings)) | set(gateway_load.stale_days(settings))
    if not days:
        return dg.SkipReason("every day's offers and gateway load are stored with today's device inventory")
    if _busy(context, "ingest_job", "calls_refresh_job", "inventory_refresh_job"):
        return dg.SkipReason(f"{len(days)} day(s) to store again, after the running job")
    return dg.RunRequest(tags={"ringledger/days": str(len(days))})
