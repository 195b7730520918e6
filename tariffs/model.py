"""The tariff model: plans, versions, time bands and rates, with money as Decimal.

A plan belongs to one carrier (or gateway) and has one currency. It has versions, each valid for a
span of time (the version in force when a call is answered prices it). A version holds:

* rate rows, each keyed by an E.164 prefix (longest prefix wins) or by a destination class such as
  "IT mobile", optionally restricted to a time band and to rows effective inside the version;
* time-band windows (weekdays or holidays, months, days of month, years, a start and an end time),
  read in the plan's time zone;
* billing defaults (rounding, band mode start|split, the destination types that cost nothing).

Each rate row has a connect fee, a minimum charge, free seconds, a maximum cost and one or more
steps (start second, price per `per` seconds, increment): "30/6 at 0.02 a minute" is two steps,
(0 s, 0.02/60 s, 30 s) then (30 s, 0.02/60 s, 6 s), exactly like CGRateS' GroupIntervalStart.

The rate rows of a version are held as an Arrow table (`RATE_SCHEMA`) so a 200,000-prefix deck
loads and rates without a Python object per row.
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

# Prices and fees carry 8 decimals in tariffs; stored costs carry 6 (DECIMAL(18,6)).
PRICE_SCALE = 8
PRICE_TYPE = pa.decimal128(18, PRICE_SCALE)
MAX_ROUNDING_DECIMALS = 6

DESTINATION_TYPES = (
    "internal",
    "local",
    "national",
    "mobile",
    "international",
    "toll_free",
    "premium",
    "emergency",
    "special",
    "unknown",
)
DEFAULT_FREE = frozenset({"internal", "emergency", "toll_free"})
ROUNDING_METHODS = ("up", "down", "half_up")
BAND_MODES = ("start", "split")
DAY_NAMES = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7, "holiday": 8}
HOLIDAY = 8

STEP_TYPE = pa.struct(
    [
        pa.field("start_s", pa.int32()),
        pa.field("price", PRICE_TYPE),
        pa.field("per_s", pa.int32()),
        pa.field("increment_s", pa.int32()),
    ]
)
RATE_SCHEMA = pa.schema(
    [
        pa.field("line", pa.int32()),  # line of the source file (0 when made by an importer)
        pa.field("prefix", pa.string()),  # E.164 digits without '+' ('' matches every number); null for a class
        pa.field("class_nation", pa.string()),  # ISO alpha-2 or '*'; null for a prefix row
        pa.field("class_type", pa.string()),  # one of DESTINATION_TYPES; null for a prefix row
        pa.field("destination", pa.string()),
        pa.field("band", pa.string()),  # '' = any time
        pa.field("direction", pa.string()),  # out | in
        pa.field("connect_fee", PRICE_TYPE),
        pa.field("minimum_charge", PRICE_TYPE),
        pa.field("max_cost", PRICE_TYPE),  # null = no cap
        pa.field("free_seconds", pa.int32()),
        pa.field("rounding_decimals", pa.int8()),  # null = the version's
        pa.field("rounding_method", pa.string()),  # null = the version's
        pa.field("effective_from", pa.timestamp("us", tz="UTC")),
        pa.field("effective_to", pa.timestamp("us", tz="UTC")),
        pa.field("steps", pa.list_(STEP_TYPE)),
    ]
)


class TariffError(ValueError):
    """A tariff file is wrong: the message names the file, the line and the field."""

    def __init__(self, file: str | Path, problem: str, line: int | None = None, field: str | None = None):
        self.file = str(file)
        self.line = line
        self.field = field
        self.problem = problem
        where = self.file
        if line:
            where += f", line {line}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Step:
    """From second `start_s` of the billed call: `price` per `per_s` seconds, billed in `increment_s` blocks."""

    start_s: int
    price: Decimal
    per_s: int = 60
    increment_s: int = 1


@dataclass(frozen=True)
class Window:
    """A time window of a band, in the plan's zone; the window with the highest (weight, start) wins."""

    band: str
    days: frozenset[int] = frozenset()  # 1 = Monday .. 7 = Sunday, 8 = holiday; empty = every day
    months: frozenset[int] = frozenset()
    monthdays: frozenset[int] = frozenset()
    years: frozenset[int] = frozenset()
    start_s: int = 0  # seconds after local midnight
    end_s: int | None = None  # None: until the end of the day (a later-starting window takes over)
    weight: int = 0

    def matches_day(self, day: date, holiday: bool) -> bool:
        """True when the window applies on this local date."""
        if self.days:
            if holiday:
                if HOLIDAY not in self.days:
                    return False
            elif day.isoweekday() not in self.days:
                return False
        if self.months and day.month not in self.months:
            return False
        if self.monthdays and day.day not in self.monthdays:
            return False
        return not (self.years and day.year not in self.years)


ANY_BAND = ""
# The implicit window of rate rows without a band: every day, all day, below every named window.
CATCH_ALL = Window(band=ANY_BAND, weight=-(10**9))


@dataclass(frozen=True)
class Version:
    """One price list of a plan, valid from `valid_from` (inclusive) to `valid_to` (exclusive), UTC."""

    id: str
    valid_from: datetime | None
    valid_to: datetime | None
    rates: pa.Table
    band_mode: str = "start"
    rounding_decimals: int = 4
    rounding_method: str = "up"
    free: frozenset[str] = DEFAULT_FREE
    windows: tuple[Window, ...] = ()
    holidays: tuple[str, ...] = ()  # 'YYYY-MM-DD' once, or 'MM-DD' every year
    rates_file: str = ""

    def is_holiday(self, day: date) -> bool:
        """True when the local date is one of the version's holidays."""
        iso = day.isoformat()
        return iso in self.holidays or iso[5:] in self.holidays

    def digest(self) -> str:
        """A hash of everything that decides prices, validity excluded (so a new later version leaves it alone)."""
        h = hashlib.sha256()
        h.update(repr((self.id, self.band_mode, self.rounding_decimals, self.rounding_method)).encode())
        h.update(repr(sorted(self.free)).encode())
        h.update(repr(sorted(self.windows, key=repr)).encode())
        h.update(repr(sorted(self.holidays)).encode())
        body = self.rates.drop_columns(["line"])
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, body.schema) as writer:
            writer.write_table(body)
        h.update(sink.getvalue().to_pybytes())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    """A tariff plan: one carrier, one currency, versions that do not overlap."""

    name: str
    currency: str
    versions: tuple[Version, ...]
    time_zone: str = "UTC"
    country: str = ""
    carrier: str = ""
    description: str = ""
    source: str = ""
    files: tuple[str, ...] = field(default=())

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The plan's time zone."""
        return zoneinfo.ZoneInfo(self.time_zone)


# -- parsing helpers shared by the importers ---------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def check_plan_name(name: str, file: str | Path) -> str:
    """A plan name usable as a folder name and in rate references."""
    if not _NAME.match(name or ""):
        raise TariffError(
            file, f"plan name {name!r} must be letters, digits, '_', '-', '.', '@' (at most 64)", None, "name"
        )
    return name


def check_currency(code: str, file: str | Path, line: int | None = None, fld: str = "currency") -> str:
    """An ISO 4217 code: three capital letters."""
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise TariffError(file, f"currency {code!r} must be an ISO 4217 code such as EUR", line, fld)
    return code


def check_zone(name: str, file: str | Path, line: int | None = None, fld: str = "time_zone") -> str:
    """An IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TariffError(file, f"unknown time zone {name!r}", line, fld) from None
    return name


def parse_money(text: str, file: str | Path, line: int | None, fld: str, *, comma: bool = False) -> Decimal:
    """A non-negative amount with at most 8 decimals ('0.0121'; '0,0121' when `comma`)."""
    raw = (text or "").strip()
    if comma:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise TariffError(file, f"{text!r} is not an amount", line, fld) from None
    if not value.is_finite() or value < 0:
        raise TariffError(file, f"{text!r} must be zero or more", line, fld)
    if value.as_tuple().exponent < -PRICE_SCALE:  # type: ignore[operator]
        raise TariffError(file, f"{text!r} has more than {PRICE_SCALE} decimals", line, fld)
    if value >= Decimal(10) ** (18 - PRICE_SCALE):
        raise TariffError(file, f"{text!r} is too large", line, fld)
    return value


def parse_seconds(text: str, file: str | Path, line: int | None, fld: str, *, minimum: int = 0) -> int:
    """A whole number of seconds."""
    raw = (text or "").strip()
    if not re.fullmatch(r"\d{1,7}", raw):
        raise TariffError(file, f"{text!r} is not a whole number of seconds", line, fld)
    value = int(raw)
    if value < minimum:
        raise TariffError(file, f"{text!r} must be at least {minimum}", line, fld)
    return value


def parse_clock(text: str, file: str | Path, line: int | None, fld: str, *, allow_24: bool = False) -> int:
    """'08:00' or '08:00:00' as seconds after midnight ('24:00' as the end of the day when allowed)."""
    raw = (text or "").strip()
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", raw)
    if not m:
        raise TariffError(file, f"{text!r} is not a time of day such as 08:00", line, fld)
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if allow_24 and (h, mi, s) == (24, 0, 0):
        return 86400
    if h > 23 or mi > 59 or s > 59:
        raise TariffError(file, f"{text!r} is not a time of day", line, fld)
    return h * 3600 + mi * 60 + s


def parse_instant(text: str, zone: zoneinfo.ZoneInfo, file: str | Path, line: int | None, fld: str) -> datetime:
    """A local date ('2025-07-01' = local midnight), a local date-time, or an ISO time with offset; UTC out."""
    raw = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            local = datetime.combine(date.fromisoformat(raw), time(0))
        elif re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", raw):
            d, mo, y = (int(x) for x in raw.split("."))
            local = datetime(y, mo, d)
        else:
            local = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise TariffError(
            file, f"{text!r} is not a date (YYYY-MM-DD, DD.MM.YYYY or an ISO 8601 time)", line, fld
        ) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(UTC)


def parse_destination_class(text: str, file: str | Path, line: int | None, fld: str = "class") -> tuple[str, str]:
    """'IT mobile' or '* international' -> ('IT', 'mobile')."""
    parts = (text or "").split()
    if len(parts) != 2:
        raise TariffError(file, f"{text!r} must be a country and a destination type, such as 'IT mobile'", line, fld)
    nation, kind = parts[0].upper(), parts[1].lower()
    if not (nation == "*" or re.fullmatch(r"[A-Z]{2}", nation)):
        raise TariffError(file, f"{parts[0]!r} is not an ISO 3166 country code or '*'", line, fld)
    if kind not in DESTINATION_TYPES:
        raise TariffError(file, f"{parts[1]!r} is not one of {', '.join(DESTINATION_TYPES)}", line, fld)
    return nation, kind


def check_steps(steps: list[Step], file: str | Path, line: int | None, fld: str = "steps") -> list[Step]:
    """Steps must start at 0, rise strictly, and have positive units and increments."""
    if not steps or steps[0].start_s != 0:
        raise TariffError(file, "the first step must start at second 0", line, fld)
    for a, b in zip(steps, steps[1:], strict=False):
        if b.start_s <= a.start_s:
            raise TariffError(
                file, f"steps must start later and later (second {b.start_s} after {a.start_s})", line, fld
            )
    for s in steps:
        if s.per_s <= 0 or s.increment_s <= 0:
            raise TariffError(file, "price unit and increment must be at least 1 second", line, fld)
    return steps


def day_intervals(windows: list[Window], day: date, holiday: bool) -> list[tuple[int, int, str | None]]:
    """The winning band of each part of a local day: [(start_s, end_s, band or None)], merged."""
    active = [w for w in windows if w.matches_day(day, holiday)]
    cuts = {0, 86400}
    for w in active:
        cuts.add(w.start_s)
        if w.end_s is not None:
            cuts.add(min(w.end_s, 86400))
    points = sorted(c for c in cuts if 0 <= c <= 86400)
    out: list[tuple[int, int, str | None]] = []
    for a, b in zip(points, points[1:], strict=False):
        best: Window | None = None
        for w in active:
            end = 86400 if w.end_s is None else w.end_s
            if w.start_s <= a < end and (best is None or (w.weight, w.start_s) > (best.weight, best.start_s)):
                best = w
        band = best.band if best is not None else None
        if out and out[-1][2] == band and out[-1][1] == a:
            out[-1] = (out[-1][0], b, band)
        else:
            out.append((a, b, band))
    return out


def local_to_utc(day: date, seconds: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (seconds after midnight; 86400 = next midnight)."""
    local = datetime.combine(day, time(0)) + timedelta(seconds=seconds)
    return local.replace(tzinfo=zone).astimezone(UTC)
