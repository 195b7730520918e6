"""Retention in the pipelines: remove what is older than `[retention]` allows and anonymise old numbers, daily.

Its job and schedule use the `ringledger` resource that the code location already has (defined with
the ingest domain); Dagster merges domains only when a resource key is bound once.
"""

import dagster as dg

from pipelines.defs.retention.jobs import retention_job
from pipelines.defs.retention.schedules import retention_schedule

defs = dg.Definitions(jobs=[retention_job], schedules=[retention_schedule])
