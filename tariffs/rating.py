"""Vectorised rating in DuckDB, and the explanation of any one price.

`rate(con, book)` prices every row of a `rate_in` table on the connection (unit_id, plan, gateway,
number_id, t0, duration_s; the numbers in `rate_numbers`: number_id, digits, nation, dtype,
direction) and leaves the result in `r_out`:
status (rated | free | unrated), plan_cost DECIMAL(18,6), plan_currency, plan, version, band,
billed_s and rate_ref, the short answer to "what priced this". There is no Python loop per call:
numbers are matched once per distinct number, costs once per distinct (rate, seconds), and only
calls of split-band plans that cross a band boundary are cut into pieces.

`explain(con, reg, unit_id)` turns the tables the same run left behind into the full story of
one price: matched prefix, version, band, billed seconds per step, connect fee, minimum, maximum,
rounding. `quote()` prices and explains one imagined call.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

from tariffs.book import Registered, TariffBook, intervals, register
from tariffs.numbering import NumberingPlan, classify

RATE_IN_SCHEMA = pa.schema(
    [
        pa.field("unit_id", pa.int64()),
        pa.field("plan", pa.string()),
        pa.field("gateway", pa.string()),
        pa.field("number_id", pa.int64()),
        pa.field("t0", pa.timestamp("us", tz="UTC")),
        pa.field("duration_s", pa.int64()),
    ]
)
RATE_NUMBERS_SCHEMA = pa.schema(
    [
        pa.field("number_id", pa.int64()),
        pa.field("digits", pa.string()),  # E.164 without '+'
        pa.field("nation", pa.string()),
        pa.field("dtype", pa.string()),  # destination type
        pa.field("direction", pa.string()),  # out | in
    ]
)

_registered: dict[int, Registered] = {}
_lock = threading.Lock()


def _sql() -> str:
    return resources.files("tariffs").joinpath("sql", "rate.sql").read_text(encoding="utf-8")


def prepare(con: duckdb.DuckDBPyConnection, book: TariffBook) -> Registered:
    """Lay the book's plans out as tables on the connection (once per connection and book state)."""
    key = id(con)
    with _lock:
        reg = _registered.get(key)
    if reg is not None and reg.stamp == book.stamp and book.stamp:
        try:
            got = con.execute("SELECT stamp FROM t_stamp").fetchall()
            if got and got[0][0] == book.stamp:
                return reg
        except duckdb.Error:
            pass
    reg = register(con, book)
    con.execute("CREATE OR REPLACE TEMP TABLE t_stamp AS SELECT CAST(? AS VARCHAR) AS stamp", [book.stamp])
    with _lock:
        _registered[key] = reg
    return reg


def rate(con: duckdb.DuckDBPyConnection, book: TariffBook) -> Registered:
    """Price the connection's `rate_in` rows into `r_out` (see the module docstring)."""
    reg = prepare(con, book)
    span = con.execute("SELECT min(t0), max(t0 + to_seconds(coalesce(duration_s, 0))) FROM rate_in").fetchall()[0]
    start, end = span
    if start is None:
        start = end = datetime(2000, 1, 1, tzinfo=UTC)
    # billed time can run past the hang-up by an increment: a day either side covers it
    table = intervals(reg, start - timedelta(days=1), end + timedelta(days=2))
    con.register("r_intervals_arrow", table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE r_intervals AS SELECT * FROM r_intervals_arrow")
    finally:
        con.unregister("r_intervals_arrow")
    con.execute(_sql())
    return reg


def rate_table(con: duckdb.DuckDBPyConnection, book: TariffBook, rows: pa.Table, numbers: pa.Table) -> pa.Table:
    """Price Arrow tables shaped like RATE_IN_SCHEMA and RATE_NUMBERS_SCHEMA; returns `r_out` as Arrow."""
    for name, table, schema in (("rate_in", rows, RATE_IN_SCHEMA), ("rate_numbers", numbers, RATE_NUMBERS_SCHEMA)):
        con.register(f"{name}_arrow", table.cast(schema))
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        finally:
            con.unregister(f"{name}_arrow")
    rate(con, book)
    return con.sql("SELECT * FROM r_out ORDER BY unit_id").to_arrow_table()


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop a run's working tables (the tariff tables stay for the next run on this connection)."""
    for name in ("r_units", "r_match", "r_decided", "r_costs", "r_cross", "r_pieces", "r_cross_cost", "r_out"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


# -- explanations -------------------------------------------------------------------------------------


@dataclass
class StepLine:
    """Billed seconds of one step of the rate, and what they cost."""

    step: int
    from_s: int
    to_s: int | None
    increment_s: int
    price: Decimal
    per_s: int
    billed_s: int
    amount: Decimal


@dataclass
class PieceLine:
    """Part of a split call: the billed seconds that fell in one band."""

    band: str
    start: datetime
    end: datetime
    step: int
    seconds: int
    price: Decimal | None
    per_s: int | None
    amount: Decimal | None


@dataclass
class Explanation:
    """Everything that decided one price."""

    status: str
    rate_ref: str
    cost: Decimal | None
    currency: str | None
    number: str | None
    destination_type: str | None
    nation: str | None
    plan: str | None = None
    version: str | None = None
    version_valid_from: datetime | None = None
    version_valid_to: datetime | None = None
    time_zone: str | None = None
    band_mode: str | None = None
    answered_at: datetime | None = None
    answered_local: str | None = None
    matched: str | None = None
    destination: str | None = None
    source: str | None = None
    band: str | None = None
    duration_s: int = 0
    free_seconds: int = 0
    chargeable_s: int = 0
    billed_s: int = 0
    connect_fee: Decimal = Decimal(0)
    steps: list[StepLine] = field(default_factory=list)
    pieces: list[PieceLine] = field(default_factory=list)
    usage: Decimal = Decimal(0)
    subtotal: Decimal = Decimal(0)
    minimum_charge: Decimal = Decimal(0)
    minimum_applied: bool = False
    max_cost: Decimal | None = None
    max_applied: bool = False
    unrounded: Decimal | None = None
    rounding_decimals: int | None = None
    rounding_method: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (amounts as strings, times as ISO 8601)."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):
                return format(value, "f")
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return plain(asdict(self))

    def lines(self) -> list[str]:
        """The explanation as text, one fact per line."""
        cur = self.currency or ""
        out = [f"cost: {_money(self.cost)} {cur}".rstrip(), f"rate_ref: {self.rate_ref}"]
        out.append(
            f"number: {self.number or '-'} ({self.destination_type or 'unknown'}"
            + (f", {self.nation}" if self.nation else "")
            + ")"
        )
        if self.plan and self.version is None:
            out.append(f"plan: {self.plan}")
        elif self.plan:
            span = f"from {self.version_valid_from:%Y-%m-%d %H:%M} UTC" if self.version_valid_from else "from the start"
            span += f" to {self.version_valid_to:%Y-%m-%d %H:%M} UTC" if self.version_valid_to else ", open-ended"
            out.append(f"plan: {self.plan}, version {self.version} ({span}), band mode {self.band_mode}")
        if self.status != "rated":
            return out
        out.append(f"matched: {self.matched} ({self.destination}) at {self.source}")
        out.append(f"answered: {self.answered_local} ({self.time_zone}); band at answer: {self.band or 'any time'}")
        out.append(
            f"duration: {self.duration_s} s; free seconds: {self.free_seconds}; charged from: {self.chargeable_s} s; "
            f"billed: {self.billed_s} s"
        )
        for s in self.steps:
            until = f"{s.to_s}" if s.to_s is not None else "end"
            out.append(
                f"  step {s.step + 1}: seconds {s.from_s}-{until} in {s.increment_s} s increments at "
                f"{_num(s.price)} per {s.per_s} s: billed {s.billed_s} s = {_num(s.amount)}"
            )
        for p in self.pieces:
            price = f"{_num(p.price)} per {p.per_s} s" if p.price is not None else "no rate"
            out.append(
                f"  band {p.band or 'any time'}: {p.start:%Y-%m-%d %H:%M:%S}-{p.end:%H:%M:%S} UTC, "
                f"{p.seconds} s of step "
                f"{p.step + 1} at {price} = {_num(p.amount) if p.amount is not None else '-'}"
            )
        out.append(f"connect fee: {_num(self.connect_fee)}; usage: {_num(self.usage)}; subtotal: {_num(self.subtotal)}")
        if self.minimum_charge:
            out.append(f"minimum charge: {_num(self.minimum_charge)}" + (" (applied)" if self.minimum_applied else ""))
        if self.max_cost is not None:
            out.append(f"maximum cost: {_num(self.max_cost)}" + (" (applied)" if self.max_applied else ""))
        out.append(
            f"rounding: {_num(self.unrounded)} to {self.rounding_decimals} decimals, {self.rounding_method} -> "
            f"{_money(self.cost)} {cur}"
        )
        return out


def _num(value: Decimal | None) -> str:
    if value is None:
        return "-"
    text = format(value.normalize(), "f")
    return text


def _money(value: Decimal | None) -> str:
    return "none" if value is None else format(value.normalize(), "f") if value == value.to_integral() else _num(value)


def _exact(numerator: int, denominator: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(numerator) / Decimal(denominator)).normalize()


def explain(con: duckdb.DuckDBPyConnection, reg: Registered, unit_id: int) -> Explanation:
    """The full explanation of one priced unit of the last `rate()` run on this connection."""
    row = con.execute(
        """
        SELECT o.status, o.rate_ref, o.plan_cost, o.plan_currency, o.billed_s,
               d.digits, d.dtype, d.nation, d.plan, d.version_id, d.t0, d.duration_s, d.key_id, d.rate_id,
               d.band, d.free_s, d.d, d.band_mode
        FROM r_out AS o JOIN r_decided AS d USING (unit_id)
        WHERE o.unit_id = ?
        """,
        [unit_id],
    ).fetchall()
    if not row:
        raise KeyError(f"unit {unit_id} was not rated in this run")
    (
        status,
        rate_ref,
        cost,
        currency,
        billed_s,
        digits,
        dtype,
        nation,
        plan_name,
        version_id,
        t0,
        duration_s,
        key_id,
        rate_id,
        band,
        free_s,
        d,
        band_mode,
    ) = row[0]
    ex = Explanation(
        status=status,
        rate_ref=rate_ref,
        cost=cost,
        currency=currency,
        number=f"+{digits}" if digits else None,
        destination_type=dtype,
        nation=nation,
        duration_s=int(duration_s or 0),
        answered_at=t0,
    )
    if version_id is not None:
        plan, version = reg.versions[version_id]
        ex.plan, ex.version = plan.name, version.id
        ex.version_valid_from, ex.version_valid_to = version.valid_from, version.valid_to
        ex.time_zone, ex.band_mode = plan.time_zone, band_mode
        if t0 is not None:
            ex.answered_local = t0.astimezone(plan.zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    elif plan_name:
        ex.plan = plan_name
    if status != "rated" or rate_id is None:
        return ex
    key = con.execute(
        "SELECT kind, prefix, class_nation, class_type, destination FROM t_keys WHERE key_id = ?", [key_id]
    ).fetchall()[0]
    kind, prefix, class_nation, class_type, destination = key
    rate = con.execute(
        "SELECT line, connect_fee, minimum_charge, max_cost, decimals, method, units, connect_e8, minimum_e8, max_e8 "
        "FROM t_rates WHERE rate_id = ?",
        [rate_id],
    ).fetchall()[0]
    line, connect_fee, minimum, max_cost, decimals, method, units, connect_e8, minimum_e8, max_e8 = rate
    plan, version = reg.versions[version_id]
    ex.matched = (
        ("any number" if prefix == "" else f"+{prefix}") if kind == "prefix" else f"{class_nation} {class_type}"
    )
    ex.destination = destination
    ex.source = f"{version.rates_file}:{line}" if line else version.rates_file
    ex.band = band
    ex.free_seconds = int(free_s)
    ex.chargeable_s = int(d)
    ex.billed_s = int(billed_s or 0)
    ex.connect_fee = connect_fee if d > 0 else Decimal(0)
    ex.minimum_charge = minimum
    ex.max_cost = max_cost
    ex.rounding_decimals, ex.rounding_method = int(decimals), method
    if cost is not None:
        ex.cost = cost.quantize(Decimal(1).scaleb(-int(decimals)))
    steps = con.execute(
        "SELECT k, start_s, end_s, inc_s, price, per_s, price_e8, mult FROM t_steps WHERE rate_id = ? ORDER BY k",
        [rate_id],
    ).fetchall()
    usage_le8 = 0
    for k, start_s, end_s, inc_s, price, per_s, price_e8, mult in steps:
        actual = max(min(d, end_s if end_s is not None else d) - start_s, 0)
        billed = -(-actual // inc_s) * inc_s
        usage_le8 += billed * int(price_e8) * int(mult)
        ex.steps.append(
            StepLine(k, start_s, end_s, inc_s, price, per_s, billed, _exact(billed * int(price_e8), per_s * 10**8))
        )
    pieces = con.execute(
        "SELECT band, piece_from, piece_to, k, seconds, price, per_s, usage_le8 FROM r_pieces "
        "WHERE unit_id = ? ORDER BY piece_from, k",
        [unit_id],
    ).fetchall()
    if pieces:
        usage_le8 = 0
        for pband, f, t, k, seconds, price, per_s, p_le8 in pieces:
            amount = _exact(int(p_le8), int(units) * 10**8) if p_le8 is not None else None
            usage_le8 += int(p_le8 or 0)
            ex.pieces.append(PieceLine(pband or "", f, t, k, int(seconds), price, per_s, amount))
    scale = int(units) * 10**8
    ex.usage = _exact(usage_le8, scale)
    subtotal_le8 = (int(connect_e8) * int(units) + usage_le8) if d > 0 else 0
    ex.subtotal = _exact(subtotal_le8, scale)
    total = subtotal_le8
    if d > 0 and int(minimum_e8) * int(units) > total:
        total = int(minimum_e8) * int(units)
        ex.minimum_applied = True
    if d > 0 and max_e8 is not None and int(max_e8) * int(units) < total:
        total = int(max_e8) * int(units)
        ex.max_applied = True
    ex.unrounded = _exact(total, scale)
    return ex


def quote(
    book: TariffBook,
    plan_name: str,
    number: str,
    at: datetime,
    duration_s: int,
    *,
    numbering: NumberingPlan | None = None,
    direction: str = "out",
) -> Explanation:
    """Price one imagined call: a number dialled at a time for a duration, under a plan."""
    plan = book.plan(plan_name)
    if at.tzinfo is None:
        at = at.replace(tzinfo=plan.zone)
    numbering = numbering or NumberingPlan(country=plan.country)
    c = classify(numbering, number, direction)
    rows = pa.table(
        {
            "unit_id": [1],
            "plan": [plan.name],
            "gateway": [None],
            "number_id": [1],
            "t0": [at.astimezone(UTC)],
            "duration_s": [int(duration_s)],
        },
        schema=RATE_IN_SCHEMA,
    )
    numbers = pa.table(
        {
            "number_id": [1],
            "digits": [c.digits],
            "nation": [c.nation],
            "dtype": [c.destination_type],
            "direction": ["in" if direction == "in" else "out"],
        },
        schema=RATE_NUMBERS_SCHEMA,
    )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rate_table(con, book, rows, numbers)
        reg = prepare(con, book)
        ex = explain(con, reg, 1)
    finally:
        with _lock:
            _registered.pop(id(con), None)
        con.close()
    if ex.number is None:
        ex.number = c.e164 or number
    return ex
