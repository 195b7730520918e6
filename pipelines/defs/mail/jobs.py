"""The mail retry job and the sensor that starts it when a failed message is due again."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import mail
from warehouse.appdb import utcnow


@dg.op
def retry_mail(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> None:
    """Send again every queued message whose next attempt is due."""
    engine = ringledger.engine()
    tried = mail.retry_due(ringledger.settings(), engine)
    failed = [m for m in (mail.message(engine, i) for i in tried) if m is not None and m.status != mail.SENT]
    context.log.info(f"{len(tried)} message(s) retried, {len(failed)} still not sent")
    for m in failed:
        context.log.warning(f"{m.id} to {', '.join(m.recipients)}: {m.status}, {m.attempts} attempt(s): {m.last_error}")


@dg.job(executor_def=dg.in_process_executor, tags={"domain": "mail"})
def mail_retry_job() -> None:
    """Retry failed mail."""
    retry_mail()


@dg.sensor(job=mail_retry_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def mail_retry_sensor(context: dg.SensorEvaluationContext, ringledger: RingledgerResource):
    """Start a retry run when a failed message's next attempt is due."""
    due = mail.due_count(ringledger.engine())
    if not due:
        return dg.SkipReason("no message waits for a retry")
    return dg.RunRequest(run_key=f"mail-retry:{utcnow():%Y%m%dT%H%M}:{utcnow().second // 30}")
