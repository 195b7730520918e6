"""When a scheduled report or alarm runs: every N minutes, days, weeks or months from a start in a zone.

    rec = Recurrence(every=1, unit="months", start=datetime(2026, 1, 31, 8, 0), zone="Europe/Rome")
    rec.next_after(now)        # the first run strictly after `now`, as a UTC instant

The start is a wall-clock time in the owner's zone. Runs every N days, weeks or months keep that wall
time whatever the season; runs every N minutes keep N real minutes apart (so an hourly alarm runs 25
times on the night the clocks go back and 23 times when they go forward).

Month ends: a run on the 29th, 30th or 31st falls on the last day of a shorter month (31 January,
then 28 or 29 February, 31 March, 30 April ...); each occurrence is counted from the start, so one
short month does not pull the following ones earlier. A start on 29 February runs on 28 February in
other years (yearly = every 12 months).

Daylight saving: a wall time the clocks skip (02:30 on the night they go forward) runs as many
minutes after the jump as it was after the hour (03:30), and a wall time that happens twice (02:30 on
the night they go back) runs once, the first time. Either way a daily run still runs once that day.

Missed runs are not repeated: `next_after(now)` after a long stop gives the next run to come, so the
scheduler runs a late schedule once and then carries on from the present.
"""

from __future__ import annotations

import calendar
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

UNITS = ("minutes", "days", "weeks", "months")


class RecurrenceError(ValueError):
    """A recurrence that cannot be used; the message says which setting and why."""


def to_utc(local: datetime, zone: str) -> datetime:
    """The UTC instant of a wall-clock time in a zone (skipped times move forward, repeated ones run first)."""
    tz = zoneinfo.ZoneInfo(zone)
    # fold=0: for a skipped wall time zoneinfo uses the offset before the jump, which lands the same
    # number of minutes after it; for a repeated wall time it is the first of the two
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _add_months(day: date, months: int, wanted_day: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(wanted_day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Recurrence:
    """Every `every` `unit`s from `start` (a naive wall-clock time) in `zone`."""

    every: int
    unit: str
    start: datetime
    zone: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise RecurrenceError(f"recurrence unit {self.unit!r} must be one of {', '.join(UNITS)}")
        if not isinstance(self.every, int) or self.every < 1:
            raise RecurrenceError(f"recurrence: 'every' must be a whole number of at least 1, not {self.every!r}")
        if self.unit == "minutes" and self.every > 60 * 24 * 366:
            raise RecurrenceError("recurrence: at most a year of minutes between runs")
        if self.start.tzinfo is not None:
            raise RecurrenceError("recurrence: the start is a wall-clock time in the zone, without a UTC offset")
        try:
            zoneinfo.ZoneInfo(self.zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise RecurrenceError(f"recurrence: unknown time zone {self.zone!r}") from None

    @property
    def start_utc(self) -> datetime:
        """The first run, as a UTC instant."""
        return to_utc(self.start, self.zone)

    def local(self, k: int) -> datetime:
        """The wall-clock time of the k-th run (k = 0 is the start)."""
        if k < 0:
            raise ValueError("runs are counted from 0")
        if self.unit == "minutes":
            return self.occurrence(k).astimezone(zoneinfo.ZoneInfo(self.zone)).replace(tzinfo=None)
        if self.unit == "months":
            day = _add_months(self.start.date(), k * self.every, self.start.day)
        else:
            span = 7 if self.unit == "weeks" else 1
            day = self.start.date() + timedelta(days=k * self.every * span)
        return datetime.combine(day, self.start.time())

    def occurrence(self, k: int) -> datetime:
        """The k-th run (k = 0 is the start), as a UTC instant."""
        if k < 0:
            raise ValueError("runs are counted from 0")
        if self.unit == "minutes":
            return self.start_utc + timedelta(minutes=k * self.every)
        return to_utc(self.local(k), self.zone)

    def _estimate(self, instant: datetime) -> int:
        """A run number close to (never far after) the last run at or before `instant`."""
        if self.unit == "minutes":
            return int((instant - self.start_utc) // timedelta(minutes=self.every))
        here = instant.astimezone(zoneinfo.ZoneInfo(self.zone)).replace(tzinfo=None)
        if self.unit == "months":
            months = (here.year - self.start.year) * 12 + here.month - self.start.month
            return months // self.every
        span = 7 if self.unit == "weeks" else 1
        return (here.date() - self.start.date()).days // (span * self.every)

    def next_after(self, instant: datetime) -> datetime:
        """The first run strictly after `instant` (a UTC-aware datetime)."""
        if instant.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        k = max(0, self._estimate(instant) - 1)
        # runs are at least a minute apart and the estimate is at most one run late: a few steps suffice
        while self.occurrence(k) <= instant:
            k += 1
        return self.occurrence(k)

    def first_at_or_after(self, instant: datetime) -> datetime:
        """The first run at or after `instant` (when a schedule is created or resumed)."""
        return self.next_after(instant - timedelta(microseconds=1))

    def previous_before(self, instant: datetime) -> datetime | None:
        """The last run strictly before `instant`, or None before the start."""
        k = self._estimate(instant) + 2
        while k >= 0:
            if self.occurrence(k) < instant:
                return self.occurrence(k)
            k -= 1
        return None

    def interval_before(self, instant: datetime) -> timedelta:
        """The time between the run at `instant` and the one before it (one interval at the start)."""
        before = self.previous_before(instant)
        if before is None:
            after = self.next_after(instant)
            return after - instant
        return instant - before


def parse_start(text: str) -> datetime:
    """A start as written in a form or a file: 'YYYY-MM-DD HH:MM' (or with a T), a wall-clock time."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise RecurrenceError(f"start {text!r} must look like 2026-01-31 08:00") from None
    if value.tzinfo is not None:
        raise RecurrenceError(f"start {text!r}: give the wall-clock time without a UTC offset")
    return value.replace(second=0, microsecond=0)
