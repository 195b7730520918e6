"""Jobs of the budgets domain: each is one warehouse function, run in-process (no step subprocess)."""

import dagster as dg

from warehouse import appdb, budgets, enforcement
from warehouse.config import load_settings


@dg.op
def evaluate_budgets(context: dg.OpExecutionContext) -> None:
    """Bring every budget up to date: periods, spend, threshold mails and budget locks."""
    settings = load_settings()
    report = budgets.evaluate(settings, appdb.open_db(settings))
    context.log.info(
        f"{report.budgets} budget(s): {report.periods_opened} period(s) opened, {report.periods_closed} closed, "
        f"{report.notifications} notification(s), locked {report.locked or 'none'}, "
        f"unlocked {report.unlocked or 'none'}"
    )


@dg.op
def retry_phone_locks(context: dg.OpExecutionContext) -> None:
    """Try again the CUCM lock changes that failed and are due."""
    settings = load_settings()
    results = enforcement.retry_due(settings, appdb.open_db(settings))
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
