"""When retention runs: once a day, at night, when any retention age is configured."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.retention.jobs import retention_job
from warehouse.config import ConfigError


@dg.schedule(
    job=retention_job,
    cron_schedule="40 3 * * *",  # every day at 03:40 UTC, after the night's files are in
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def retention_schedule(context: dg.ScheduleEvaluationContext, ringledger: RingledgerResource):
    """Apply the retention settings every night (skipped while they keep everything)."""
    try:
        settings = ringledger.settings()
    except ConfigError as exc:
        return dg.SkipReason(f"configuration cannot be read: {exc}")
    if not settings.retention.configured:
        return dg.SkipReason("[retention] keeps everything: nothing to remove")
    return dg.RunRequest()
