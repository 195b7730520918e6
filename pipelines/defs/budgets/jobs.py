"""Jobs of the budgets domain: each is one warehouse function, run in-process (no step subprocess)."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import budgets, enforcement


@dg.op
def evaluate_budgets(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> None:
    """Bring every budget up to date: periods, spend, threshold mails and budget locks."""
    report = budgets.evaluate(ringledger.settings(), ringledger.engine())
    context.log.info(
        f"{report.budgets} budget(s): {report.periods_opened} period(s) opened, {report.periods_closed} closed, "
        f"{report.notifications} notification(s), locked {report.locked or 'none'}, "
        f"unlocked {report.unlocked or 'none'}"
    )


@dg.op
def retry_phone_locks(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> None:
    """Try again the CUCM lock changes that failed and are due."""
    results = enforcement.retry_due(ringledger.settings(), ringledger.engine())
    pending = {ext: e.last_error for ext, e in results.items() if not e.in_effect}
    context.log.info(f"{len(results)} extension(s) retried; still pending: {pending or 'none'}")


@dg.job(executor_def=dg.in_process_executor, tags={"domain": "budgets"})
def budget_evaluation_job() -> None:
    """Evaluate every budget (run after each ingest and at period boundaries)."""
    evaluate_budgets()


@dg.job(executor_def=dg.in_process_executor, tags={"domain": "budgets"})
def phone_lock_retry_job() -> None:
    """Retry failed CUCM lock changes."""
    retry_phone_locks()
