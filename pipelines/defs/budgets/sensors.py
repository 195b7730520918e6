"""Sensors of the budgets domain. Each tick only reads a manifest or a few app-database rows."""

import dagster as dg

from pipelines.defs.budgets.jobs import budget_evaluation_job, phone_lock_retry_job
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import budgets, enforcement
from warehouse.appdb import utcnow
from warehouse.lake import Lake


@dg.sensor(job=budget_evaluation_job, minimum_interval_seconds=2, default_status=dg.DefaultSensorStatus.RUNNING)
def budget_after_ingest_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Evaluate budgets as soon as new calls are published (or budgets or the directory change)."""
    settings = ringledger.settings()
    engine = ringledger.engine()
    lake = Lake(settings.lake_dir)
    token = (
        f"calls={lake.manifest('calls').version};directory={lake.manifest('directory').version};"
        f"budgets={budgets.state_token(engine)}"
    )
    if token == context.cursor:
        return dg.SkipReason("no new calls, budgets or directory changes")
    context.update_cursor(token)
    if not budgets.budgets(engine):
        return dg.SkipReason("no budget is assigned")
    return dg.RunRequest(run_key=f"budgets:{token}")


@dg.sensor(job=budget_evaluation_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def budget_period_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Evaluate budgets when a period ends (locks lifted) and when a finished period is to be closed."""
    due = budgets.next_due(ringledger.settings(), ringledger.engine())
    if due is None or due > utcnow():
        return dg.SkipReason(f"next period boundary at {due.isoformat()}" if due else "no budget is assigned")
    key = due.isoformat()
    if key == context.cursor:
        return dg.SkipReason(f"evaluation for the boundary at {key} already requested")
    context.update_cursor(key)
    return dg.RunRequest(run_key=f"budget-period:{key}")


@dg.sensor(job=phone_lock_retry_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def phone_lock_retry_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Retry CUCM lock changes whose next attempt is due."""
    due = enforcement.due_count(ringledger.engine())
    if not due:
        return dg.SkipReason("every lock change is in effect")
    # one run per half minute at most; a failing CUCM backs off per extension
    return dg.RunRequest(run_key=f"phone-lock-retry:{utcnow():%Y%m%dT%H%M}:{utcnow().second // 30}")
