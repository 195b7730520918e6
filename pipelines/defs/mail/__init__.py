"""Mail in the pipelines: send again the messages whose earlier attempt failed, when due."""

import dagster as dg

from pipelines.defs.mail.jobs import mail_retry_job, mail_retry_sensor

defs = dg.Definitions(jobs=[mail_retry_job], sensors=[mail_retry_sensor])
