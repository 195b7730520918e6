"""Scheduled reports and alarms in the pipelines: a sensor starts a run whenever a schedule is due."""

import dagster as dg

from pipelines.defs.schedules.jobs import scheduled_mail_job
from pipelines.defs.schedules.sensors import scheduled_mail_sensor

defs = dg.Definitions(jobs=[scheduled_mail_job], sensors=[scheduled_mail_sensor])
