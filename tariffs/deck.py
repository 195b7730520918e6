"""A-Z carrier rate decks: prefix, destination, rate per minute and, optionally, an effective date.

Decks come in many dialects. The reader detects the separator (',', ';', tab or '|'), whether the
first line is a header (and which column is which, by name), and a decimal comma ("0,0121").
Without a header the columns are told apart by their content. A deck carries no billing terms, so
the increments, connect fee, currency and zone come from the import options.
"""

from __future__ import annotations

import csv
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tariffs.columns import (
    constant,
    csv_rows,
    decimals,
    fast_columns,
    finish_rates,
    first_index,
    instants,
    read_text,
    steps_array,
    string_columns,
)
from tariffs.model import (
    DEFAULT_FREE,
    PRICE_TYPE,
    RATE_SCHEMA,
    Plan,
    TariffError,
    Version,
    check_currency,
    check_plan_name,
    check_zone,
)

DELIMITERS = (";", "\t", "|", ",")
HEADER_NAMES = {
    "prefix": {
        "prefix",
        "code",
        "dialcode",
        "dialprefix",
        "diallingcode",
        "dialingcode",
        "destinationcode",
        "e164prefix",
        "pattern",
    },
    "destination": {"destination", "description", "name", "country", "zone", "destinationname", "area"},
    "rate": {
        "rate",
        "price",
        "cost",
        "rateperminute",
        "priceperminute",
        "costperminute",
        "perminutecost",
        "costmin",
        "ratemin",
        "pricemin",
        "minuterate",
        "ratecost",
    },
    "effective": {
        "effectivedate",
        "effective",
        "effectivefrom",
        "validfrom",
        "date",
        "startdate",
        "effectiveon",
        "activationdate",
    },
}
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?|\d{1,2}\.\d{1,2}\.\d{4})\s*$")


@dataclass(frozen=True)
class DeckOptions:
    """Terms a deck does not carry: billing a/b, connect fee, currency, zone and validity."""

    name: str
    currency: str
    time_zone: str = "UTC"
    country: str = ""
    first_block: int = 1
    increment: int = 1
    connect_fee: Decimal = Decimal(0)
    version: str = "1"
    valid_from: datetime | None = None
    carrier: str = ""


@dataclass
class DeckLayout:
    """What detection found: separator, header, column positions, decimal comma."""

    delimiter: str
    header: bool
    columns: dict[str, int]
    decimal_comma: bool
    ignored: list[str] = field(default_factory=list)
    currency: str = ""


def parse_billing(text: str) -> tuple[int, int]:
    """'30/6' -> (30, 6); '60' -> (60, 60)."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*(?:/\s*(\d{1,5}))?\s*", text or "")
    if not m:
        raise ValueError(f"billing {text!r} must look like 60/60, 30/6 or 1/1")
    first = int(m.group(1))
    inc = int(m.group(2) or first)
    if first < 1 or inc < 1:
        raise ValueError(f"billing {text!r}: both numbers must be at least 1")
    return first, inc


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", name.lower()))


def _sniff_delimiter(text: str) -> str:
    sample = text.splitlines()[:60]
    best: tuple[float, int, str] | None = None
    for order, delim in enumerate(DELIMITERS):
        counts = [len(r) for r in csv.reader(sample, delimiter=delim) if r and any(c.strip() for c in r)]
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (hits / len(counts), -order, delim)
        if best is None or score > best:
            best = score
    if best is None:
        raise TariffError("", "cannot tell the column separator (expected ',', ';', tab or '|')", 1)
    return best[2]


def _is_number(value: str) -> bool:
    return bool(re.fullmatch(r"\s*\+?\d+([.,]\d+)?\s*", value))


def detect_layout(text: str, file: str | Path) -> DeckLayout:
    """Separator, header and columns of a deck; a TariffError says what could not be told apart."""
    try:
        delimiter = _sniff_delimiter(text)
    except TariffError as exc:
        raise TariffError(file, exc.problem, 1) from None
    first_rows = [
        r for r in csv.reader(text.splitlines()[:200], delimiter=delimiter) if r and any(c.strip() for c in r)
    ]
    if not first_rows:
        raise TariffError(file, "the deck is empty", 1)
    head = [_norm(c) for c in first_rows[0]]
    named = {
        role: next(i for i, h in enumerate(head) if h in names)
        for role, names in HEADER_NAMES.items()
        if any(h in names for h in head)
    }
    currency = ""
    if named:
        for role in ("prefix", "rate"):
            if role not in named:
                raise TariffError(file, f"the header has no {role} column (it reads: {', '.join(first_rows[0])})", 1)
        m = re.search(r"\(([A-Z]{3})\)", first_rows[0][named["rate"]])
        currency = m.group(1) if m else ""
        ignored = [first_rows[0][i].strip() for i in range(len(head)) if i not in named.values()]
        return DeckLayout(
            delimiter, True, named, _decimal_comma(text, delimiter, named["rate"], file, True), ignored, currency
        )
    if not any(_is_number(c) for c in first_rows[0]):
        raise TariffError(file, "the first line looks like a header but names no prefix and rate column", 1)
    # No header: tell the columns apart by what they hold.
    width = max(len(r) for r in first_rows)
    kinds = []
    for i in range(width):
        values = [r[i].strip() for r in first_rows if i < len(r) and r[i].strip()]
        if values and all(re.fullmatch(r"\+?\d+", v) for v in values):
            kinds.append("digits")
        elif values and all(_is_number(v) for v in values):
            kinds.append("amount")
        elif values and all(_DATE.match(v) for v in values):
            kinds.append("date")
        else:
            kinds.append("text")
    columns: dict[str, int] = {}
    digits = [i for i, k in enumerate(kinds) if k == "digits"]
    amounts = [i for i, k in enumerate(kinds) if k == "amount"]
    if digits:
        columns["prefix"] = digits[0]
    if amounts:
        columns["rate"] = amounts[0]
    elif len(digits) > 1:
        columns["rate"] = digits[1]
    if "prefix" not in columns or "rate" not in columns:
        raise TariffError(file, "cannot tell which column is the prefix and which the rate: add a header line", 1)
    texts = [i for i, k in enumerate(kinds) if k == "text"]
    if texts:
        columns["destination"] = texts[0]
    dates = [i for i, k in enumerate(kinds) if k == "date"]
    if dates:
        columns["effective"] = dates[0]
    return DeckLayout(delimiter, False, columns, _decimal_comma(text, delimiter, columns["rate"], file, False))


def _decimal_comma(text: str, delimiter: str, rate_col: int, file: str | Path, header: bool) -> bool:
    rows = list(csv.reader(text.splitlines()[: 2000 + int(header)], delimiter=delimiter))[int(header) :]
    comma = dot = False
    for n, r in enumerate(rows, start=1 + int(header)):
        if rate_col >= len(r):
            continue
        v = r[rate_col]
        if "," in v and "." in v:
            raise TariffError(file, f"{v!r}: thousands separators are not supported", n, "rate")
        comma |= "," in v
        dot |= "." in v
    if comma and dot:
        raise TariffError(file, "rates mix decimal points and decimal commas", None, "rate")
    return comma


def read_deck(path: Path, options: DeckOptions) -> tuple[Plan, DeckLayout]:
    """Read an A-Z deck into a one-version plan; returns the plan and what was detected."""
    path = Path(path)
    if not path.is_file():
        raise TariffError(path, "no such file")
    name = check_plan_name(options.name, path)
    zone_name = check_zone(options.time_zone, path)
    zone = zoneinfo.ZoneInfo(zone_name)
    text = read_text(path)
    layout = detect_layout(text, path)
    currency = check_currency(options.currency or layout.currency, path)
    if layout.currency and options.currency and layout.currency != options.currency.upper():
        raise TariffError(
            path, f"the header says {layout.currency} but the import asks for {options.currency}", 1, "rate"
        )
    cols = layout.columns
    need = max(cols.values()) + 1
    fast = fast_columns(text, layout.delimiter, layout.header)
    if fast is not None and len(fast[1]) >= need:
        _, columns, lines = fast
    else:
        rows, lines = csv_rows(text, layout.delimiter)
        if layout.header:
            rows, lines = rows[1:], lines[1:]
        if not rows:
            raise TariffError(path, "the deck has no rate rows")
        if min(map(len, rows)) < need:
            i = next(i for i, r in enumerate(rows) if len(r) < need)
            missing = min((pos, name) for name, pos in cols.items() if pos >= len(rows[i]))[1]
            raise TariffError(path, f"{len(rows[i])} fields, expected at least {need}", lines[i], missing)
        columns = string_columns(rows, need)
    n = len(lines)
    if n == 0:
        raise TariffError(path, "the deck has no rate rows")
    prefix = pc.replace_substring(pc.utf8_ltrim(pc.fill_null(columns[cols["prefix"]], ""), "+"), " ", "")
    bad = first_index(pc.invert(pc.match_substring_regex(prefix, r"^\d{1,15}$")))
    if bad is not None:
        raw = columns[cols["prefix"]][bad].as_py() or ""
        raise TariffError(path, f"{raw!r} is not an E.164 prefix (digits)", lines[bad], "prefix")
    price = decimals(columns[cols["rate"]], lines, path, "rate", comma=layout.decimal_comma)
    empty = first_index(pc.is_null(price))
    if empty is not None:
        raise TariffError(path, "the rate is empty", lines[empty], "rate")
    dest = columns[cols["destination"]] if "destination" in cols else pa.nulls(n, pa.string())
    destination = pc.coalesce(dest, pc.binary_join_element_wise("+", prefix, ""))
    effective = columns[cols["effective"]] if "effective" in cols else pa.nulls(n, pa.string())
    zero = pa.scalar(Decimal(0), PRICE_TYPE)
    table = pa.table(
        {
            "line": pa.array(lines, pa.int32()),
            "prefix": prefix,
            "class_nation": pa.nulls(n, pa.string()),
            "class_type": pa.nulls(n, pa.string()),
            "destination": destination,
            "band": constant("", n, pa.string()),
            "direction": constant("out", n, pa.string()),
            "connect_fee": constant(options.connect_fee, n, PRICE_TYPE),
            "minimum_charge": constant(zero, n, PRICE_TYPE),
            "max_cost": pa.nulls(n, PRICE_TYPE),
            "free_seconds": constant(0, n, pa.int32()),
            "rounding_decimals": pa.nulls(n, pa.int8()),
            "rounding_method": pa.nulls(n, pa.string()),
            "effective_from": instants(effective, lines, zone, path, "effective_date"),
            "effective_to": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            "steps": steps_array(
                constant(options.first_block, n, pa.int32()),
                constant(options.increment, n, pa.int32()),
                constant(60, n, pa.int32()),
                price,
            ),
        },
        schema=RATE_SCHEMA,
    )
    version = Version(
        id=options.version,
        valid_from=options.valid_from,
        valid_to=None,
        rates=finish_rates(table, path),
        free=DEFAULT_FREE,
        rates_file=str(path),
    )
    plan = Plan(
        name=name,
        currency=currency,
        versions=(version,),
        time_zone=zone_name,
        country=options.country.upper(),
        carrier=options.carrier,
        description=f"imported from the A-Z deck {path.name}",
        source=str(path),
        files=(str(path),),
    )
    return plan, layout
