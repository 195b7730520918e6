"""Alarms (L1-L8, X4 call quality, X6 anomaly): what each type watches, its settings and its mail.

    from warehouse.alarms import ALARM_TYPES, evaluate
    finding = evaluate(context, "outside_hours", {"default_hours": {"start": "08:00", "end": "18:00"}})

Scheduling (recurrence, windows, last run, next run) lives in `warehouse.schedules`; the mail of a
finding is made by `warehouse.alarms.message`.
"""

from warehouse.alarms.checks import ALARM_TYPES, AlarmError, AlarmType, Context, Finding, alarm_type, evaluate
from warehouse.alarms.params import AlarmSettingsError

__all__ = [
    "ALARM_TYPES",
    "AlarmError",
    "AlarmSettingsError",
    "AlarmType",
    "Context",
    "Finding",
    "alarm_type",
    "evaluate",
]
