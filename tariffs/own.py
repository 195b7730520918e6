"""Ringledger's own tariff format: a folder with `plan.toml` and one rates CSV per version.

The format is described for users in README.md ("Tariffs"). Every importer turns what it reads
into a `Plan`, and `write_plan` stores any plan in this format, so what rates calls is always a
plain text folder an administrator can read, diff and edit.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import tomlkit

from tariffs.columns import (
    csv_rows,
    decimals,
    fast_columns,
    finish_rates,
    first_index,
    instants,
    integers,
    read_text,
    steps_array,
    string_columns,
)
from tariffs.model import (
    BAND_MODES,
    DAY_NAMES,
    DEFAULT_FREE,
    DESTINATION_TYPES,
    MAX_ROUNDING_DECIMALS,
    PRICE_TYPE,
    RATE_SCHEMA,
    ROUNDING_METHODS,
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
    parse_destination_class,
    parse_instant,
    parse_money,
    parse_seconds,
)

PLAN_FILE = "plan.toml"
RATE_COLUMNS = (
    "prefix",
    "class",
    "destination",
    "band",
    "price",
    "per",
    "first_block",
    "increment",
    "connect_fee",
    "minimum_charge",
    "free_seconds",
    "max_cost",
    "steps",
    "rounding_decimals",
    "rounding_method",
    "effective_from",
    "effective_to",
    "direction",
)
PLAN_KEYS = {
    "name",
    "carrier",
    "description",
    "currency",
    "time_zone",
    "country",
    "band_mode",
    "rounding",
    "free",
    "holidays",
    "defaults",
    "bands",
    "versions",
    "rates",
    "valid_from",
    "valid_to",
}
VERSION_KEYS = {
    "id",
    "valid_from",
    "valid_to",
    "rates",
    "band_mode",
    "rounding",
    "free",
    "holidays",
    "defaults",
    "bands",
}
DEFAULT_KEYS = {"connect_fee", "minimum_charge", "max_cost", "free_seconds", "first_block", "increment", "per"}
BAND_KEYS = {"name", "days", "months", "monthdays", "years", "from", "to", "weight"}
_DAY_BY_NUMBER = {v: k for k, v in DAY_NAMES.items()}


def is_own_plan(path: Path) -> bool:
    """True for a folder holding plan.toml, or a .toml file."""
    path = Path(path)
    return (path.is_dir() and (path / PLAN_FILE).is_file()) or (path.is_file() and path.suffix == ".toml")


# -- reading ---------------------------------------------------------------------------------------


def read_plan(path: Path) -> Plan:
    """Read a plan folder (or its plan.toml); errors name the file, the line or setting, and the problem."""
    path = Path(path)
    file = path / PLAN_FILE if path.is_dir() else path
    if not file.is_file():
        raise TariffError(file, "no such file")
    try:
        data = tomllib.loads(read_text(file))
    except tomllib.TOMLDecodeError as exc:
        raise TariffError(file, str(exc)) from None
    _known(data, PLAN_KEYS, file, "")
    name = check_plan_name(str(data.get("name") or file.parent.name), file)
    currency = check_currency(str(data.get("currency", "")), file)
    zone_name = check_zone(str(data.get("time_zone", "UTC")), file)
    zone = zoneinfo.ZoneInfo(zone_name)
    country = str(data.get("country", "")).upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise TariffError(file, f"{country!r} is not an ISO 3166 country code", None, "country")
    if "versions" in data:
        if not isinstance(data["versions"], list) or not data["versions"]:
            raise TariffError(file, "versions must be a list of [[versions]] tables", None, "versions")
        if "rates" in data:
            raise TariffError(file, "give rates inside each [[versions]] table, not at the top", None, "rates")
        raw_versions = data["versions"]
    else:
        raw_versions = [
            {k: data[k] for k in ("valid_from", "valid_to") if k in data} | {"rates": data.get("rates", "rates.csv")}
        ]
    versions = []
    files = [str(file)]
    for i, raw in enumerate(raw_versions):
        where = f"versions[{i + 1}]" if "versions" in data else ""
        if not isinstance(raw, dict):
            raise TariffError(file, "must be a table", None, where)
        _known(raw, VERSION_KEYS, file, where)
        version = _read_version(file, where, data, raw, zone, i)
        versions.append(version)
        files.append(version.rates_file)
    return Plan(
        name=name,
        currency=currency,
        versions=order_versions(versions, file),
        time_zone=zone_name,
        country=country,
        carrier=str(data.get("carrier", "")),
        description=str(data.get("description", "")),
        source=str(file.parent if path.is_dir() else file),
        files=tuple(files),
    )


def order_versions(versions: list[Version], file: str | Path) -> tuple[Version, ...]:
    """Versions by start; an open end closes at the next version's start; overlaps and twins are errors."""
    ids = [v.id for v in versions]
    for vid in ids:
        if ids.count(vid) > 1:
            raise TariffError(file, f"version id {vid!r} is used twice", None, "versions.id")
    floor = datetime(1, 1, 1, tzinfo=UTC)
    ordered = sorted(versions, key=lambda v: v.valid_from or floor)
    out: list[Version] = []
    for i, v in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if nxt is not None and nxt.valid_from is None:
            raise TariffError(
                file, f"only the first version may leave valid_from empty ({nxt.id!r} does)", None, "valid_from"
            )
        valid_to = v.valid_to
        if nxt is not None:
            if valid_to is None:
                valid_to = nxt.valid_from
            elif nxt.valid_from is not None and valid_to > nxt.valid_from:
                raise TariffError(file, f"version {v.id!r} overlaps version {nxt.id!r}", None, "valid_to")
        if valid_to is not None and v.valid_from is not None and valid_to <= v.valid_from:
            raise TariffError(file, f"version {v.id!r} ends before it starts", None, "valid_to")
        out.append(Version(**{**v.__dict__, "valid_to": valid_to}))
    return tuple(out)


def _known(data: dict, allowed: set[str], file: Path, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise TariffError(
                file, f"unknown setting (expected one of {', '.join(sorted(allowed))})", None, _at(where, key)
            )


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _setting(plan: dict, version: dict, key: str, default: Any) -> Any:
    return version.get(key, plan.get(key, default))


def _read_version(file: Path, where: str, plan: dict, raw: dict, zone: zoneinfo.ZoneInfo, index: int) -> Version:
    band_mode = str(_setting(plan, raw, "band_mode", "start"))
    if band_mode not in BAND_MODES:
        raise TariffError(file, f"{band_mode!r} must be start or split", None, _at(where, "band_mode"))
    rounding = _setting(plan, raw, "rounding", {})
    if not isinstance(rounding, dict) or set(rounding) - {"decimals", "method"}:
        raise TariffError(file, "rounding must be a table with decimals and method", None, _at(where, "rounding"))
    decimals_ = rounding.get("decimals", 4)
    if not isinstance(decimals_, int) or not 0 <= decimals_ <= MAX_ROUNDING_DECIMALS:
        raise TariffError(file, f"decimals must be 0 to {MAX_ROUNDING_DECIMALS}", None, _at(where, "rounding.decimals"))
    method = rounding.get("method", "up")
    if method not in ROUNDING_METHODS:
        raise TariffError(
            file, f"method must be one of {', '.join(ROUNDING_METHODS)}", None, _at(where, "rounding.method")
        )
    free = _setting(plan, raw, "free", sorted(DEFAULT_FREE))
    if not isinstance(free, list) or any(f not in DESTINATION_TYPES for f in free):
        raise TariffError(
            file, f"free must list destination types ({', '.join(DESTINATION_TYPES)})", None, _at(where, "free")
        )
    holidays = _setting(plan, raw, "holidays", [])
    if not isinstance(holidays, list):
        raise TariffError(file, "holidays must be a list of dates", None, _at(where, "holidays"))
    for h in holidays:
        if not (isinstance(h, str) and re.fullmatch(r"(\d{4}-)?\d{2}-\d{2}", h)):
            raise TariffError(file, f"holiday {h!r} must be YYYY-MM-DD or MM-DD", None, _at(where, "holidays"))
        try:
            datetime.strptime(h if len(h) == 10 else f"2000-{h}", "%Y-%m-%d")
        except ValueError:
            raise TariffError(file, f"holiday {h!r} is not a date", None, _at(where, "holidays")) from None
    windows = _read_bands(file, _at(where, "bands") if "bands" in raw else "bands", _setting(plan, raw, "bands", []))
    defaults = {**plan.get("defaults", {}), **raw.get("defaults", {})}
    _known(defaults, DEFAULT_KEYS, file, "defaults")
    valid_from = _instant(raw.get("valid_from"), zone, file, _at(where, "valid_from"))
    valid_to = _instant(raw.get("valid_to"), zone, file, _at(where, "valid_to"))
    rates_name = raw.get("rates", "rates.csv")
    if (
        not isinstance(rates_name, str)
        or not rates_name
        or Path(rates_name).name != rates_name
        or rates_name in (".", "..")
    ):
        raise TariffError(file, "rates must name a CSV file next to plan.toml", None, _at(where, "rates"))
    rates_path = file.parent / rates_name
    vid = str(raw.get("id") or (raw.get("valid_from") and str(raw["valid_from"])[:10]) or index + 1)
    bands = {w.band for w in windows}
    rates = read_rates(rates_path, defaults, zone, bands, file)
    return Version(
        id=vid,
        valid_from=valid_from,
        valid_to=valid_to,
        rates=rates,
        band_mode=band_mode,
        rounding_decimals=decimals_,
        rounding_method=method,
        free=frozenset(free),
        windows=tuple(windows),
        holidays=tuple(holidays),
        rates_file=str(rates_path),
    )


def _instant(value: Any, zone: zoneinfo.ZoneInfo, file: Path, fld: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return parse_instant(str(value), zone, file, None, fld)


def _read_bands(file: Path, where: str, raw: Any) -> list[Window]:
    if not isinstance(raw, list):
        raise TariffError(file, "bands must be a list of [[bands]] tables", None, where)
    windows = []
    for i, b in enumerate(raw):
        at = f"{where}[{i + 1}]"
        if not isinstance(b, dict):
            raise TariffError(file, "must be a table", None, at)
        _known(b, BAND_KEYS, file, at)
        name = str(b.get("name", "")).strip()
        if not re.fullmatch(r"[A-Za-z0-9_.@*-]{1,40}", name):
            raise TariffError(file, "a band needs a name of letters, digits, '_', '-'", None, f"{at}.name")
        days = set()
        for d in b.get("days", []):
            key = str(d).lower()[:3] if str(d).lower() != "holiday" else "holiday"
            if key not in DAY_NAMES:
                raise TariffError(file, f"{d!r} is not a day (mon..sun or holiday)", None, f"{at}.days")
            days.add(DAY_NAMES[key])

        def numbers(key: str, lo: int, hi: int, b: dict = b, at: str = at) -> frozenset[int]:
            values = b.get(key, [])
            if not isinstance(values, list) or any(not isinstance(v, int) or not lo <= v <= hi for v in values):
                raise TariffError(file, f"{key} must be a list of numbers {lo}..{hi}", None, f"{at}.{key}")
            return frozenset(values)

        start = parse_clock(str(b.get("from", "00:00")), file, None, f"{at}.from")
        end = parse_clock(str(b["to"]), file, None, f"{at}.to", allow_24=True) if "to" in b else None
        if end is not None and end <= start:
            raise TariffError(
                file, "to must be later than from (split a window that crosses midnight in two)", None, f"{at}.to"
            )
        weight = b.get("weight", 0)
        if not isinstance(weight, int):
            raise TariffError(file, "weight must be a whole number", None, f"{at}.weight")
        windows.append(
            Window(
                band=name,
                days=frozenset(days),
                months=numbers("months", 1, 12),
                monthdays=numbers("monthdays", 1, 31),
                years=numbers("years", 1900, 2999),
                start_s=start,
                end_s=end,
                weight=weight,
            )
        )
    return windows


def _default_value(defaults: dict, key: str, file: Path) -> str:
    value = defaults.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TariffError(file, f"{value!r} must be a number", None, f"defaults.{key}")
    return str(value)


def parse_steps_text(text: str, file: str | Path, line: int, fld: str = "steps") -> list[Step]:
    """'60:0.05:1; 300:0.03:1:60' -> steps (start second, price, increment[, per seconds])."""
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        bits = part.split(":")
        if len(bits) not in (3, 4):
            raise TariffError(file, f"{part!r} must be start:price:increment[:per]", line, fld)
        start = parse_seconds(bits[0], file, line, fld)
        price = parse_money(bits[1], file, line, fld)
        inc = parse_seconds(bits[2], file, line, fld, minimum=1)
        per = parse_seconds(bits[3], file, line, fld, minimum=1) if len(bits) == 4 else 60
        out.append(Step(start, price, per, inc))
    return out


def read_rates(path: Path, defaults: dict, zone: zoneinfo.ZoneInfo, bands: set[str], plan_file: Path) -> pa.Table:
    """Read a rates CSV of the own format into RATE_SCHEMA rows (column-wise: 200,000 rows in well under a second)."""
    if not path.is_file():
        raise TariffError(plan_file, f"rates file {path.name!r} does not exist", None, "rates")
    text = read_text(path)
    fast = fast_columns(text)
    if fast is not None:
        names, arrays, lines = fast
        header = [h.lower() for h in names]
        n = len(lines)
    else:
        rows, lines = csv_rows(text)
        if not rows:
            raise TariffError(path, "the file is empty: it needs a header line naming the columns", 1)
        header = [h.strip().lower() for h in rows[0]]
        body, lines = rows[1:], lines[1:]
        n = len(body)
        if n and max(map(len, body)) > len(header):
            i = next(i for i, r in enumerate(body) if len(r) > len(header))
            raise TariffError(
                path, f"{len(body[i])} fields but the header has {len(header)}", lines[i], f"column {len(header) + 1}"
            )
        arrays = string_columns(body, len(header))
    for h in header:
        if h not in RATE_COLUMNS:
            raise TariffError(path, f"unknown column {h!r} (columns: {', '.join(RATE_COLUMNS)})", 1, h)
    if "price" not in header:
        raise TariffError(path, "a 'price' column is required", 1, "price")
    if "prefix" not in header and "class" not in header:
        raise TariffError(path, "a 'prefix' or a 'class' column is required", 1, "prefix")
    cols = dict(zip(header, arrays, strict=True))
    null = pa.nulls(n, pa.string())

    def col(name: str) -> pa.Array:
        return cols.get(name, null)

    def fail(mask: pa.Array, field: str, problem) -> None:
        i = first_index(mask)
        if i is not None:
            raise TariffError(path, problem(i) if callable(problem) else problem, lines[i], field)

    prefix = pc.utf8_ltrim(col("prefix"), "+")
    prefix = pc.if_else(pc.equal(prefix, "*"), "", prefix)
    klass = col("class")
    fail(pc.and_(pc.is_valid(prefix), pc.is_valid(klass)), "class", "give a prefix or a class, not both")
    fail(
        pc.and_(pc.is_null(prefix), pc.is_null(klass)),
        "prefix",
        "each row needs a prefix (or * for every number) or a class",
    )
    bad_prefix = pc.invert(pc.match_substring_regex(prefix, r"^\d{0,15}$"))
    fail(bad_prefix, "prefix", lambda i: f"{prefix[i].as_py()!r} is not an E.164 prefix (digits)")
    distinct = pc.unique(klass.drop_null()).to_pylist()
    parsed = [parse_destination_class(c, path, lines[pc.index(klass, c).as_py()]) for c in distinct]
    where = pc.index_in(klass, value_set=pa.array(distinct, pa.string()))
    nations = pc.take(pa.array([p[0] for p in parsed], pa.string()), where)
    types = pc.take(pa.array([p[1] for p in parsed], pa.string()), where)
    destination = pc.coalesce(
        col("destination"), klass, pc.binary_join_element_wise("+", prefix, ""), pa.scalar("any number")
    )
    destination = pc.if_else(pc.equal(destination, "+"), "any number", destination)
    band = pc.fill_null(col("band"), "")
    fail(
        pc.and_(pc.not_equal(band, ""), pc.invert(pc.is_in(band, value_set=pa.array(sorted(bands), pa.string())))),
        "band",
        lambda i: f"band {band[i].as_py()!r} is not defined in plan.toml (bands: {', '.join(sorted(bands)) or 'none'})",
    )
    direction = pc.utf8_lower(pc.fill_null(col("direction"), "out"))
    fail(
        pc.invert(pc.is_in(direction, value_set=pa.array(["out", "in"]))),
        "direction",
        lambda i: f"{direction[i].as_py()!r} must be out or in",
    )
    price = decimals(col("price"), lines, path, "price")
    fail(pc.is_null(price), "price", "a price is required")

    def given(name: str, default: str) -> pa.Array:
        value = _default_value(defaults, name, plan_file) or default
        return pc.fill_null(col(name), value) if value != "" else col(name)

    def dec(name: str) -> pa.Array:
        return decimals(given(name, ""), lines, path, name)

    def sec(name: str, default: str, minimum: int = 0) -> pa.Array:
        return integers(given(name, default), lines, path, name, minimum=minimum)

    per = sec("per", "60", 1)
    first_block = sec("first_block", "0")
    increment = sec("increment", "1", 1)
    extra: dict[int, list[Step]] = {}
    steps_text = col("steps")
    if steps_text.null_count < n:
        fb_list, inc_list, per_list = first_block.to_pylist(), increment.to_pylist(), per.to_pylist()
        for i, text in enumerate(steps_text.to_pylist()):
            if text:
                extra[i] = more = parse_steps_text(text, path, lines[i])
                fb, inc, unit = fb_list[i], inc_list[i], per_list[i]
                base = [Step(0, Decimal(0), unit, fb or inc)]
                if fb and fb != inc:
                    base.append(Step(fb, Decimal(0), unit, inc))
                check_steps(base + more, path, lines[i])
    rounding_decimals = integers(col("rounding_decimals"), lines, path, "rounding_decimals")
    fail(
        pc.greater(rounding_decimals, MAX_ROUNDING_DECIMALS),
        "rounding_decimals",
        f"at most {MAX_ROUNDING_DECIMALS} decimals",
    )
    rounding_method = col("rounding_method")
    fail(
        pc.and_(
            pc.is_valid(rounding_method), pc.invert(pc.is_in(rounding_method, value_set=pa.array(ROUNDING_METHODS)))
        ),
        "rounding_method",
        lambda i: f"{rounding_method[i].as_py()!r} must be one of {', '.join(ROUNDING_METHODS)}",
    )
    zero = pa.scalar(Decimal(0), PRICE_TYPE)
    max_cost = dec("max_cost")
    table = pa.table(
        {
            "line": pa.array(lines, pa.int32()),
            "prefix": prefix,
            "class_nation": nations,
            "class_type": types,
            "destination": destination,
            "band": band,
            "direction": direction,
            "connect_fee": pc.fill_null(dec("connect_fee"), zero),
            "minimum_charge": pc.fill_null(dec("minimum_charge"), zero),
            "max_cost": pc.if_else(pc.equal(max_cost, zero), pa.scalar(None, PRICE_TYPE), max_cost),
            "free_seconds": sec("free_seconds", "0"),
            "rounding_decimals": pc.cast(rounding_decimals, pa.int8()),
            "rounding_method": rounding_method,
            "effective_from": instants(col("effective_from"), lines, zone, path, "effective_from"),
            "effective_to": instants(col("effective_to"), lines, zone, path, "effective_to"),
            "steps": steps_array(first_block, increment, per, price, extra),
        },
        schema=RATE_SCHEMA,
    )
    return finish_rates(table, path)


# -- writing ---------------------------------------------------------------------------------------


def _money_text(expr: pl.Expr) -> pl.Expr:
    """A decimal column as short text: 0.01210000 -> 0.0121, 2.00000000 -> 2."""
    text = expr.cast(pl.String)
    return text.str.replace(r"(\.\d*?)0+$", "${1}").str.replace(r"\.$", "")


def rates_frame(rates: pa.Table) -> pl.DataFrame:
    """A version's rate rows as the own CSV columns (vectorised: decks have 200,000 rows)."""
    df = pl.DataFrame(rates)
    s0 = pl.col("steps").list.get(0, null_on_oob=True)
    s1 = pl.col("steps").list.get(1, null_on_oob=True)
    n = pl.col("steps").list.len()
    two = (
        (n >= 2)
        & (s1.struct.field("price") == s0.struct.field("price"))
        & (s1.struct.field("per_s") == s0.struct.field("per_s"))
        & (s1.struct.field("start_s") == s0.struct.field("increment_s"))
    )
    df = df.with_columns(
        s0.struct.field("price").alias("_price"),
        s0.struct.field("per_s").alias("per"),
        s0.struct.field("increment_s").alias("first_block"),
        pl.when(two).then(s1.struct.field("increment_s")).otherwise(s0.struct.field("increment_s")).alias("increment"),
        pl.when(two).then(2).otherwise(1).alias("_skip"),
        n.alias("_n"),
    )
    df = df.with_row_index("_i")
    extra_rows = df.filter(pl.col("_n") > pl.col("_skip"))
    extra: dict[int, str] = {}
    for row in extra_rows.select("_i", "steps", "_skip").iter_rows(named=True):
        parts = []
        for s in row["steps"][row["_skip"] :]:
            price = format(s["price"].normalize(), "f")
            parts.append(f"{s['start_s']}:{price}:{s['increment_s']}" + (f":{s['per_s']}" if s["per_s"] != 60 else ""))
        extra[row["_i"]] = "; ".join(parts)
    df = df.with_columns(
        pl.col("_i").replace_strict(extra, default="", return_dtype=pl.String).alias("steps_text")
        if extra
        else pl.lit("").alias("steps_text")
    )

    def ts(name: str) -> pl.Expr:
        return pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%SZ").fill_null("")

    out = df.select(
        pl.when(pl.col("prefix").is_null())
        .then(pl.lit(""))
        .when(pl.col("prefix") == "")
        .then(pl.lit("*"))
        .otherwise(pl.col("prefix"))
        .alias("prefix"),
        pl.when(pl.col("class_nation").is_null())
        .then(pl.lit(""))
        .otherwise(pl.col("class_nation") + " " + pl.col("class_type"))
        .alias("class"),
        pl.col("destination"),
        pl.col("band"),
        _money_text(pl.col("_price")).alias("price"),
        pl.col("per").cast(pl.String),
        pl.col("first_block").cast(pl.String),
        pl.col("increment").cast(pl.String),
        _money_text(pl.col("connect_fee")).alias("connect_fee"),
        _money_text(pl.col("minimum_charge")).alias("minimum_charge"),
        pl.col("free_seconds").cast(pl.String),
        _money_text(pl.col("max_cost")).fill_null("").alias("max_cost"),
        pl.col("steps_text").alias("steps"),
        pl.col("rounding_decimals").cast(pl.String).fill_null(""),
        pl.col("rounding_method").fill_null(""),
        ts("effective_from").alias("effective_from"),
        ts("effective_to").alias("effective_to"),
        pl.col("direction"),
    )
    # Columns that say nothing for any row are left out, so a deck stays three columns wide.
    neutral = {
        "class": "",
        "band": "",
        "per": "60",
        "connect_fee": "0",
        "minimum_charge": "0",
        "free_seconds": "0",
        "max_cost": "",
        "steps": "",
        "rounding_decimals": "",
        "rounding_method": "",
        "effective_from": "",
        "effective_to": "",
        "direction": "out",
    }
    keep = [c for c in out.columns if c not in neutral or (out[c] != neutral[c]).any()]
    return out.select(keep)


def _windows_toml(windows: tuple[Window, ...]) -> list[dict]:
    out = []
    for w in windows:
        entry: dict[str, Any] = {"name": w.band}
        if w.days:
            entry["days"] = [_DAY_BY_NUMBER[d] for d in sorted(w.days)]
        for key, values in (("months", w.months), ("monthdays", w.monthdays), ("years", w.years)):
            if values:
                entry[key] = sorted(values)
        entry["from"] = f"{w.start_s // 3600:02d}:{w.start_s % 3600 // 60:02d}" + (
            f":{w.start_s % 60:02d}" if w.start_s % 60 else ""
        )
        if w.end_s is not None:
            entry["to"] = f"{w.end_s // 3600:02d}:{w.end_s % 3600 // 60:02d}" + (
                f":{w.end_s % 60:02d}" if w.end_s % 60 else ""
            )
        if w.weight:
            entry["weight"] = w.weight
        out.append(entry)
    return out


def _version_settings(v: Version) -> dict[str, Any]:
    return {
        "band_mode": v.band_mode,
        "rounding": {"decimals": v.rounding_decimals, "method": v.rounding_method},
        "free": sorted(v.free),
        "holidays": list(v.holidays),
        "bands": _windows_toml(v.windows),
    }


def _local_text(when: datetime, zone: zoneinfo.ZoneInfo) -> str:
    local = when.astimezone(zone)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.date().isoformat()
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_plan(plan: Plan, folder: Path) -> list[Path]:
    """Store a plan in the own format in `folder` (plan.toml and one rates CSV per version)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    zone = plan.zone
    doc = tomlkit.document()
    doc.add("name", plan.name)
    if plan.carrier:
        doc.add("carrier", plan.carrier)
    if plan.description:
        doc.add("description", plan.description)
    doc.add("currency", plan.currency)
    doc.add("time_zone", plan.time_zone)
    if plan.country:
        doc.add("country", plan.country)
    base = _version_settings(plan.versions[0])
    for key in ("band_mode", "rounding", "free", "holidays"):
        doc.add(key, base[key])
    written: list[Path] = []
    bands = tomlkit.aot()
    for window in base["bands"]:
        bands.append(tomlkit.item(window))
    if base["bands"]:
        doc.add("bands", bands)
    versions = tomlkit.aot()
    for i, v in enumerate(plan.versions):
        name = "rates.csv" if len(plan.versions) == 1 else f"rates-{re.sub(r'[^A-Za-z0-9_.-]', '_', v.id)}.csv"
        if name in {p.name for p in written}:
            name = f"rates-{i + 1}.csv"
        entry: dict[str, Any] = {"id": v.id}
        if v.valid_from is not None:
            entry["valid_from"] = _local_text(v.valid_from, zone)
        nxt = plan.versions[i + 1] if i + 1 < len(plan.versions) else None
        if v.valid_to is not None and (nxt is None or nxt.valid_from != v.valid_to):
            entry["valid_to"] = _local_text(v.valid_to, zone)
        entry["rates"] = name
        for key, value in _version_settings(v).items():
            if value != base[key]:
                entry[key] = value
        versions.append(tomlkit.item(entry))
        target = folder / name
        tmp = target.with_name(f".{name}.tmp")
        rates_frame(v.rates).write_csv(tmp)
        tmp.replace(target)
        written.append(target)
    doc.add("versions", versions)
    target = folder / PLAN_FILE
    tmp = target.with_name(f".{PLAN_FILE}.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(target)
    return [target, *written]
