"""The sensor of scheduled reports and alarms: each tick reads a few app-database rows."""

import hashlib

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.schedules.jobs import scheduled_mail_job
from warehouse import schedules


@dg.sensor(job=scheduled_mail_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def scheduled_mail_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Start a run when a scheduled report or alarm is due (a run missed while stopped is due once)."""
    due = schedules.due(ringledger.engine())
    if not due:
        return dg.SkipReason("no scheduled report or alarm is due")
    # the same due runs make the same key, so a tick before the run claims them adds no second run
    key = hashlib.sha1(";".join(f"{i}@{when.isoformat()}" for i, when in due).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"schedules:{key}", tags={"schedules": ",".join(str(i) for i, _ in due)[:200]})
