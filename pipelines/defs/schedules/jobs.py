"""The job that runs every scheduled report and alarm that is due (one warehouse function, in-process)."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import schedules


@dg.op
def run_due_schedules(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> None:
    """Run the scheduled reports and alarms that are due, once each, and log what came of them."""
    outcomes = schedules.run_due(ringledger.settings(), ringledger.engine())
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        if outcome.status in (schedules.FAILED, schedules.RETRYING):
            context.log.warning(f"schedule {outcome.schedule_id}: {outcome.status}: {outcome.error}")
    context.log.info(f"{len(outcomes)} schedule(s) run: {counts or 'none was due'}")


@dg.job(executor_def=dg.in_process_executor, tags={"domain": "schedules"})
def scheduled_mail_job() -> None:
    """Run the scheduled reports and alarms that are due."""
    run_due_schedules()
