"""CGRateS tariff-plan folders: Destinations, Rates, DestinationRates, Timings, RatingPlans, RatingProfiles.

One Ringledger plan is made per RatingPlan id, as CGRateS rates by RatingPlan:

* Destinations give prefixes ('+' dropped; '*any' matches every number);
* Rates rows with the same id are the steps of one rate: ConnectFee (taken from the row that starts
  at GroupIntervalStart 0), Rate per RateUnit, RateIncrement, GroupIntervalStart;
* DestinationRates bind a destination to a rate with RoundingMethod (*up, *middle, *down),
  RoundingDecimals and MaxCost (both *disconnect and *free stop the cost at MaxCost);
* Timings become band windows (Years, Months, MonthDays, WeekDays with 0 and 7 both Sunday, Time);
  a timing applies from its start time until a later-starting timing of the same weight takes
  over that day, a heavier one always wins; '*any' is every day from midnight;
* RatingPlans rows (DestinationRatesId, TimingTag, Weight) become the rate rows;
* RatingProfiles give each plan its start: the earliest ActivationTime of a profile using it.

Durations are Go-style ("60s", "1m30s"); a bare number counts as seconds. CGRateS splits a call at
rate-interval boundaries, so these plans rate with band_mode "split". Timings are read in the time
zone given at import (UTC by default).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from tariffs.columns import csv_rows, finish_rates, read_text
from tariffs.model import (
    DEFAULT_FREE,
    MAX_ROUNDING_DECIMALS,
    PRICE_TYPE,
    RATE_SCHEMA,
    STEP_TYPE,
    Plan,
    Step,
    TariffError,
    Version,
    Window,
    check_currency,
    check_plan_name,
    check_steps,
    check_zone,
    parse_clock,
    parse_instant,
    parse_money,
)

FILES = ("Destinations", "Rates", "DestinationRates", "Timings", "RatingPlans", "RatingProfiles")
REQUIRED = ("Destinations", "Rates", "DestinationRates", "RatingPlans")
ROUNDING = {"*up": "up", "*down": "down", "*middle": "half_up"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001")}


def is_cgrates_folder(path: Path) -> bool:
    """True for a folder with the CGRateS tariff-plan files."""
    path = Path(path)
    return path.is_dir() and all((path / f"{name}.csv").is_file() for name in ("Rates", "RatingPlans"))


@dataclass(frozen=True)
class _Row:
    file: Path
    line: int
    cells: list[str]

    def get(self, i: int, name: str, *, required: bool = True) -> str:
        """Field i, trimmed; an empty required field is an error naming the file, line and field."""
        value = self.cells[i].strip() if i < len(self.cells) else ""
        if required and not value:
            raise TariffError(self.file, "is empty", self.line, name)
        return value


def _rows(folder: Path, name: str, width: int) -> list[_Row]:
    path = folder / f"{name}.csv"
    if not path.is_file():
        if name in REQUIRED:
            raise TariffError(path, "a CGRateS tariff plan needs this file")
        return []
    text = read_text(path)
    rows, lines = csv_rows(text, comment="#")
    # CGRateS files name their columns in a first comment line (#Id,ConnectFee,...)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    header = [h.strip() for h in first.lstrip("#").split(",")] if first.startswith("#") else []
    out = []
    for cells, line in zip(rows, lines, strict=True):
        if len(cells) < width:
            missing = header[len(cells)] if len(cells) < len(header) else f"column {len(cells) + 1}"
            raise TariffError(
                path, f"{len(cells)} fields, expected {width}", line, missing or f"column {len(cells) + 1}"
            )
        out.append(_Row(path, line, cells))
    return out


def parse_duration(text: str, file: Path, line: int, fld: str) -> int:
    """'60s', '1m30s', '0', '1' (bare numbers are seconds) -> whole seconds."""
    raw = text.strip()
    if re.fullmatch(r"\d+", raw):
        return _seconds(Decimal(raw), text, file, line, fld)
    pos = 0
    total = Decimal(0)
    for m in _DURATION.finditer(raw):
        if m.start() != pos:
            break
        value = Decimal(m.group(1))
        total += value * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if pos != len(raw) or not raw:
        raise TariffError(file, f"{text!r} is not a duration such as 60s or 1m30s", line, fld)
    if total != total.to_integral_value():
        raise TariffError(file, f"{text!r} is not a whole number of seconds", line, fld)
    return _seconds(total, text, file, line, fld)


MAX_DURATION_S = 366 * 86400  # no rate unit, increment or interval start is longer than a year


def _seconds(total: Decimal, text: str, file: Path, line: int, fld: str) -> int:
    if total > MAX_DURATION_S:
        raise TariffError(file, f"{text.strip()[:40]!r} is longer than a year", line, fld)
    return int(total)


def _set(text: str, lo: int, hi: int, row: _Row, fld: str) -> frozenset[int]:
    if text in ("", "*any"):
        return frozenset()
    out = set()
    for part in text.split(";"):
        if not part.strip().isdigit() or not lo <= int(part) <= hi:
            raise TariffError(row.file, f"{part!r} must be {lo}..{hi} or *any", row.line, fld)
        out.add(int(part))
    return frozenset(out)


def read_cgrates(folder: Path, *, currency: str, time_zone: str = "UTC", only: str | None = None) -> list[Plan]:
    """Read a CGRateS tariff-plan folder into one plan per RatingPlan id (or only the one named)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TariffError(folder, "no such folder")
    currency = check_currency(currency, folder)
    zone_name = check_zone(time_zone, folder)
    zone = zoneinfo.ZoneInfo(zone_name)

    destinations: dict[str, list[tuple[str, _Row]]] = {}
    for row in _rows(folder, "Destinations", 2):
        did = row.get(0, "Id")
        prefix = row.get(1, "Prefix").lstrip("+")
        if prefix == "*any":
            prefix = ""
        if not re.fullmatch(r"\d{0,15}", prefix):
            raise TariffError(row.file, f"{row.cells[1]!r} is not a prefix of digits", row.line, "Prefix")
        destinations.setdefault(did, []).append((prefix, row))

    rates: dict[str, list[tuple[Step, Decimal, _Row]]] = {}
    for row in _rows(folder, "Rates", 6):
        rid = row.get(0, "Id")
        fee = parse_money(row.get(1, "ConnectFee"), row.file, row.line, "ConnectFee")
        price = parse_money(row.get(2, "Rate"), row.file, row.line, "Rate")
        unit = parse_duration(row.get(3, "RateUnit"), row.file, row.line, "RateUnit")
        inc = parse_duration(row.get(4, "RateIncrement"), row.file, row.line, "RateIncrement")
        start = parse_duration(row.get(5, "GroupIntervalStart"), row.file, row.line, "GroupIntervalStart")
        if unit < 1:
            raise TariffError(row.file, "must be at least 1s", row.line, "RateUnit")
        if inc < 1:
            raise TariffError(row.file, "must be at least 1s", row.line, "RateIncrement")
        rates.setdefault(rid, []).append((Step(start, price, unit, inc), fee, row))
    for steps in rates.values():
        steps.sort(key=lambda s: s[0].start_s)
        check_steps([s for s, _, _ in steps], steps[0][2].file, steps[0][2].line, "GroupIntervalStart")

    dest_rates: dict[str, tuple[str, str, str, int, Decimal | None, _Row]] = {}
    for row in _rows(folder, "DestinationRates", 5):
        drid = row.get(0, "Id")
        dst = row.get(1, "DestinationId")
        rtag = row.get(2, "RatesTag")
        method = row.get(3, "RoundingMethod", required=False) or "*up"
        if method not in ROUNDING:
            raise TariffError(row.file, f"{method!r} must be *up, *middle or *down", row.line, "RoundingMethod")
        dec_text = row.get(4, "RoundingDecimals", required=False) or "4"
        if not dec_text.isdigit():
            raise TariffError(row.file, f"{dec_text!r} is not a number of decimals", row.line, "RoundingDecimals")
        decimals_ = min(int(dec_text), MAX_ROUNDING_DECIMALS)
        max_text = row.get(5, "MaxCost", required=False) if len(row.cells) > 5 else ""
        max_cost = parse_money(max_text, row.file, row.line, "MaxCost") if max_text else None
        strategy = row.get(6, "MaxCostStrategy", required=False) if len(row.cells) > 6 else ""
        if strategy and strategy not in ("*free", "*disconnect"):
            raise TariffError(row.file, f"{strategy!r} must be *free or *disconnect", row.line, "MaxCostStrategy")
        if dst != "*any" and dst not in destinations:
            raise TariffError(row.file, f"destination {dst!r} is not in Destinations.csv", row.line, "DestinationId")
        if rtag not in rates:
            raise TariffError(row.file, f"rate {rtag!r} is not in Rates.csv", row.line, "RatesTag")
        if drid in dest_rates:
            raise TariffError(row.file, f"{drid!r} is defined twice", row.line, "Id")
        dest_rates[drid] = (dst, rtag, ROUNDING[method], decimals_, max_cost or None, row)

    timings: dict[str, tuple[dict, _Row]] = {}
    for row in _rows(folder, "Timings", 6):
        tag = row.get(0, "Tag")
        weekdays = _set(row.get(4, "WeekDays", required=False), 0, 7, row, "WeekDays")
        days = frozenset(7 if d == 0 else d for d in weekdays)
        time_text = row.get(5, "Time")
        if time_text.startswith("*"):
            raise TariffError(row.file, f"{time_text!r}: a rating timing needs a time of day", row.line, "Time")
        timings[tag] = (
            {
                "years": _set(row.get(1, "Years", required=False), 1900, 2999, row, "Years"),
                "months": _set(row.get(2, "Months", required=False), 1, 12, row, "Months"),
                "monthdays": _set(row.get(3, "MonthDays", required=False), 1, 31, row, "MonthDays"),
                "days": days,
                "start_s": parse_clock(time_text, row.file, row.line, "Time"),
            },
            row,
        )

    bindings: dict[str, list[tuple[str, str, int, _Row]]] = {}
    for row in _rows(folder, "RatingPlans", 4):
        pid = row.get(0, "Id")
        drid = row.get(1, "DestinationRatesId")
        tag = row.get(2, "TimingTag")
        weight_text = row.get(3, "Weight", required=False) or "0"
        try:
            weight = int(Decimal(weight_text))
        except ArithmeticError:
            raise TariffError(row.file, f"{weight_text!r} is not a weight", row.line, "Weight") from None
        if drid not in dest_rates:
            raise TariffError(row.file, f"{drid!r} is not in DestinationRates.csv", row.line, "DestinationRatesId")
        if tag != "*any" and tag not in timings:
            raise TariffError(row.file, f"timing {tag!r} is not in Timings.csv", row.line, "TimingTag")
        bindings.setdefault(pid, []).append((drid, tag, weight, row))

    activation: dict[str, list[tuple[datetime, str]]] = {}
    for row in _rows(folder, "RatingProfiles", 5):
        pid = row.get(4, "RatingPlanId")
        when = parse_instant(row.get(3, "ActivationTime"), zone, row.file, row.line, "ActivationTime")
        subject = "/".join(c.strip() for c in row.cells[:3])
        activation.setdefault(pid, []).append((when, subject))

    if only is not None and only not in bindings:
        raise TariffError(
            folder / "RatingPlans.csv", f"no RatingPlan {only!r} (there are: {', '.join(sorted(bindings))})"
        )
    plans = []
    for pid in sorted(bindings) if only is None else [only]:
        plans.append(
            _plan(
                folder,
                pid,
                bindings[pid],
                destinations,
                rates,
                dest_rates,
                timings,
                activation.get(pid, []),
                currency,
                zone_name,
            )
        )
    return plans


def _plan(folder, pid, binds, destinations, rates, dest_rates, timings, profiles, currency, zone_name) -> Plan:
    name = check_plan_name(pid, folder / "RatingPlans.csv")
    weights_of: dict[str, set[int]] = {}
    for _drid, tag, weight, _row in binds:
        weights_of.setdefault(tag, set()).add(weight)

    def band_name(tag: str, weight: int) -> str:
        base = "any" if tag == "*any" else tag
        return base if len(weights_of[tag]) == 1 else f"{base}@{weight}"

    windows = []
    for tag, weights in sorted(weights_of.items()):
        for weight in sorted(weights):
            spec = timings[tag][0] if tag != "*any" else {}
            windows.append(Window(band=band_name(tag, weight), weight=weight, **spec))
    cols: dict[str, list] = {f.name: [] for f in RATE_SCHEMA}
    for drid, tag, weight, row in binds:
        dst, rtag, method, decimals_, max_cost, _dr_row = dest_rates[drid]
        steps = rates[rtag]
        prefixes = [("", None)] if dst == "*any" else destinations[dst]
        for prefix, _dst_row in prefixes:
            cols["line"].append(row.line)
            cols["prefix"].append(prefix)
            cols["class_nation"].append(None)
            cols["class_type"].append(None)
            cols["destination"].append(dst)
            cols["band"].append(band_name(tag, weight))
            cols["direction"].append("out")
            cols["connect_fee"].append(steps[0][1])
            cols["minimum_charge"].append(Decimal(0))
            cols["max_cost"].append(max_cost)
            cols["free_seconds"].append(0)
            cols["rounding_decimals"].append(decimals_)
            cols["rounding_method"].append(method)
            cols["effective_from"].append(None)
            cols["effective_to"].append(None)
            cols["steps"].append(
                [
                    {"start_s": s.start_s, "price": s.price, "per_s": s.per_s, "increment_s": s.increment_s}
                    for s, _, _ in steps
                ]
            )
    arrays = [pa.array(cols[f.name], pa.list_(STEP_TYPE) if f.name == "steps" else f.type) for f in RATE_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=RATE_SCHEMA)
    try:
        table = finish_rates(table, folder / "RatingPlans.csv")
    except TariffError as exc:
        raise TariffError(
            folder / "RatingPlans.csv", f"plan {pid}: {exc.problem}", exc.line, "DestinationRatesId"
        ) from None
    valid_from = min((w for w, _ in profiles), default=None)
    subjects = ", ".join(f"{s} from {w:%Y-%m-%d}" for w, s in sorted(profiles))
    version = Version(
        id="1",
        valid_from=valid_from,
        valid_to=None,
        rates=table,
        band_mode="split",
        rounding_decimals=table["rounding_decimals"][0].as_py() if table.num_rows else 4,
        rounding_method=table["rounding_method"][0].as_py() if table.num_rows else "up",
        free=DEFAULT_FREE,
        windows=tuple(windows),
        rates_file=str(folder / "RatingPlans.csv"),
    )
    _ = PRICE_TYPE
    return Plan(
        name=name,
        currency=currency,
        versions=(version,),
        time_zone=zone_name,
        description=f"CGRateS RatingPlan {pid} from {folder.name}" + (f" (profiles: {subjects})" if subjects else ""),
        source=str(folder),
        files=tuple(str(folder / f"{n}.csv") for n in FILES if (folder / f"{n}.csv").is_file()),
    )
