"""Budget control in the pipelines: evaluate budgets after each ingest and at period boundaries,
and retry CUCM lock changes that failed."""

import dagster as dg

from pipelines.defs.budgets.jobs import budget_evaluation_job, phone_lock_retry_job
from pipelines.defs.budgets.sensors import budget_after_ingest_sensor, budget_period_sensor, phone_lock_retry_sensor

defs = dg.Definitions(
    jobs=[budget_evaluation_job, phone_lock_retry_job],
    sensors=[budget_after_ingest_sensor, budget_period_sensor, phone_lock_retry_sensor],
)
