"""The settings of each alarm type: what an administrator or supervisor fills in on the alarm's form.

Each is a pydantic model that travels as JSON in the schedule's `options`; a bad value gives a
message naming the setting and the problem.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday = 1 ... Sunday = 7
DIRECTIONS = ("outgoing", "incoming", "internal")
SPENDING_PERIODS = ("today", "this_week", "this_month", "last_7_days", "last_30_days")
Direction = Literal["outgoing", "incoming", "internal"]


class AlarmSettingsError(ValueError):
    """An alarm setting is wrong; the message names it."""


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hours(_Params):
    """Working hours: the weekdays (ISO numbers, Monday = 1) and a start and end time of day.

    An end before the start runs past midnight (22:00-06:00); an end equal to the start is all day.
    """

    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    start: time = time(8, 0)
    end: time = time(18, 0)

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        for d in v:
            if d not in WEEKDAYS:
                raise ValueError(f"weekday {d} must be 1 (Monday) to 7 (Sunday)")
        return sorted(set(v))

    @property
    def open_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def close_minute(self) -> int:
        return self.end.hour * 60 + self.end.minute

    def contains(self, weekday: int, minute: int) -> bool:
        """True when a local weekday and minute of the day fall in these hours."""
        if weekday not in self.days:
            return False
        o, c = self.open_minute, self.close_minute
        if o == c:
            return True
        return o <= minute < c if o < c else (minute >= o or minute < c)


class SiteHours(Hours):
    """Working hours of one site (in that site's time zone)."""

    site: str


def _outgoing() -> list[Direction]:
    return ["outgoing"]


def _numbers(values: list[str], what: str) -> list[str]:
    out = []
    for v in values:
        cleaned = re.sub(r"[\s\-./()]", "", v)
        if not cleaned:
            continue
        if not re.fullmatch(r"\+?[0-9*#]+", cleaned):
            raise ValueError(f"{what}: {v!r} is not a number (digits, optionally a leading +)")
        out.append(cleaned)
    return list(dict.fromkeys(out))


class OutsideHours(_Params):
    """L1: calls outside working hours. Each site's calls are judged in that site's zone."""

    default_hours: Hours = Field(default_factory=Hours)
    site_hours: list[SiteHours] = Field(default_factory=list)  # sites with other hours than the default
    closed_dates: list[date] = Field(default_factory=list)  # holidays: the whole day is outside hours
    directions: list[Direction] = Field(default_factory=_outgoing)
    sites: list[str] = Field(default_factory=list)  # only these sites' calls (none: every site)
    answered_only: bool = False
    min_duration_s: int = Field(default=0, ge=0)
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)  # 0: the calls since the last run

    @field_validator("directions")
    @classmethod
    def _directions(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("choose at least one direction")
        return list(dict.fromkeys(v))


class ForbiddenNumbers(_Params):
    """L2: calls to numbers, or numbers starting with prefixes, on a forbidden list."""

    numbers: list[str] = Field(default_factory=list)  # exact numbers
    prefixes: list[str] = Field(default_factory=list)
    answered_only: bool = False
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)

    @field_validator("numbers")
    @classmethod
    def _exact(cls, v: list[str]) -> list[str]:
        return _numbers(v, "forbidden number")

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        return _numbers(v, "forbidden prefix")

    @model_validator(mode="after")
    def _something(self) -> ForbiddenNumbers:
        if not self.numbers and not self.prefixes:
            raise ValueError("give at least one forbidden number or prefix")
        return self


class Spending(_Params):
    """L3: a user, department or cost centre spending more than an amount in a period."""

    group_by: Literal["user", "department", "cost_centre"] = "user"
    subjects: list[str] = Field(default_factory=list)  # only these users / departments / cost centres
    threshold: Decimal = Field(default=Decimal("100"), gt=0)
    period: Literal["today", "this_week", "this_month", "last_7_days", "last_30_days"] = "this_month"
    # False: each one is reported once per period; True: at every run while over the amount
    repeat: bool = False


class MissedCalls(_Params):
    """L4: too many missed calls on an extension, or on a list of extensions together."""

    extensions: list[str] = Field(default_factory=list)  # none: every extension in the owner's scope
    together: bool = False  # count the listed extensions as one group
    threshold: int = Field(default=5, ge=1)
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)

    @field_validator("extensions")
    @classmethod
    def _extensions(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(x.strip() for x in v if x.strip()))


class International(_Params):
    """L5: international calls (optionally of some sites only)."""

    sites: list[str] = Field(default_factory=list)
    answered_only: bool = False
    min_duration_s: int = Field(default=0, ge=0)
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)


class FeedSilent(_Params):
    """L6: no call acquired for N minutes during working hours (the CDR feed has stopped)."""

    hours: Hours = Field(default_factory=Hours)
    site: str = ""  # whose zone the hours are in (none: the company's)
    silent_minutes: int = Field(default=30, ge=1, le=60 * 24 * 7)
    clusters: list[str] = Field(default_factory=list)  # none: every cluster that ever sent calls


class UnknownDestinations(_Params):
    """L7: at least N outgoing calls to destinations the numbering plan does not recognise."""

    min_calls: int = Field(default=1, ge=1)
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)


class UnknownExtensions(_Params):
    """L8: calls made or taken by extensions that are not in the directory."""

    min_calls: int = Field(default=1, ge=1)
    window_minutes: int = Field(default=0, ge=0, le=60 * 24 * 31)


class CallQuality(_Params):
    """X4: average MOS below, or packet loss above, a threshold per gateway or site."""

    group_by: Literal["gateway", "site"] = "gateway"
    mos_below: float = Field(default=3.6, ge=1.0, le=5.0)
    loss_above_pct: float = Field(default=1.0, ge=0.0, le=100.0)
    min_calls: int = Field(default=10, ge=1)  # calls with quality figures, so a few bad calls do not fire it
    window_minutes: int = Field(default=60, ge=0, le=60 * 24 * 31)


class Anomaly(_Params):
    """X6: cost or calls far above the same weekday and hours of the previous weeks, per extension or cost centre.

    Fires when a value is above the baseline's median by more than `k` robust spreads (1.4826 x the
    median absolute deviation) and by at least the floor (so a quiet extension's first calls do not fire).
    """

    group_by: Literal["extension", "cost_centre"] = "extension"
    weeks: int = Field(default=4, ge=2, le=26)
    k: float = Field(default=3.0, gt=0, le=20)
    min_extra_calls: int = Field(default=5, ge=1)
    min_extra_cost: Decimal = Field(default=Decimal("5"), gt=0)
    window_hours: int = Field(default=1, ge=1, le=24)


def parse(model: type[_Params], data: dict | str | None) -> _Params:
    """An alarm's settings from a dict or JSON; AlarmSettingsError names every wrong setting."""
    try:
        if isinstance(data, str):
            return model.model_validate_json(data or "{}")
        return model.model_validate(data or {})
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            parts.append(f"{loc or 'settings'}: {err['msg'].removeprefix('Value error, ')}")
        raise AlarmSettingsError("; ".join(parts)) from None
