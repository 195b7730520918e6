"""Column-wise reading of tariff CSV files: exact line numbers, vectorised conversion, precise errors."""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from tariffs.model import (
    PRICE_TYPE,
    RATE_SCHEMA,
    STEP_TYPE,
    Step,
    TariffError,
    parse_instant,
    parse_money,
    parse_seconds,
)


def read_text(path: Path) -> str:
    """A tariff file's text (UTF-8, with or without BOM; Latin-1 as the fallback)."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def csv_rows(text: str, delimiter: str = ",", comment: str | None = None) -> tuple[list[list[str]], list[int]]:
    """Non-blank rows of CSV text and the line each starts on (comment lines skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        if comment and row[0].lstrip().startswith(comment):
            continue
        rows.append(row)
        lines.append(line)
    return rows, lines


def column(rows: Sequence[Sequence[str]], index: int | None) -> list[str | None]:
    """One column of the rows (None where the row is short or the column is absent)."""
    if index is None:
        return [None] * len(rows)
    return [r[index] if index < len(r) else None for r in rows]


def _blank_to_null(values: Sequence[str | None]) -> pa.Array:
    arr = pa.array(list(values), pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def decimals(
    values: Sequence[str | None], lines: list[int], file: str | Path, field: str, *, comma: bool = False
) -> pa.Array:
    """Amounts as decimal128(18, 8); blanks are null; the first bad value raises naming its line."""
    arr = _blank_to_null(values)
    if comma:
        arr = pc.replace_substring(arr, ",", ".")
    try:
        out = pc.cast(arr, PRICE_TYPE)
        bad = pc.less(out, pa.scalar(0, PRICE_TYPE))
        if not pc.any(bad).as_py():
            return out
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for value, line in zip(values, lines, strict=True):
        if value is not None and value.strip():
            parse_money(value, file, line, field, comma=comma)
    raise TariffError(file, "an amount could not be read", None, field)


def integers(values: list[str | None], lines: list[int], file: str | Path, field: str, *, minimum: int = 0) -> pa.Array:
    """Whole seconds as int32; blanks are null."""
    arr = _blank_to_null(values)
    try:
        out = pc.cast(arr, pa.int32())
        if not pc.any(pc.less(out, minimum)).as_py():
            return out
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for value, line in zip(values, lines, strict=True):
        if value is not None and value.strip():
            parse_seconds(value, file, line, field, minimum=minimum)
    raise TariffError(file, "a number of seconds could not be read", None, field)


def instants(
    values: list[str | None], lines: list[int], zone: zoneinfo.ZoneInfo, file: str | Path, field: str
) -> pa.Array:
    """Dates or times as UTC timestamps; blanks are null (decks repeat a few dates, so they are parsed once)."""
    seen: dict[str, datetime] = {}
    out: list[datetime | None] = []
    for value, line in zip(values, lines, strict=True):
        text = (value or "").strip()
        if not text:
            out.append(None)
            continue
        when = seen.get(text)
        if when is None:
            when = seen[text] = parse_instant(text, zone, file, line, field)
        out.append(when)
    return pa.array(out, pa.timestamp("us", tz="UTC"))


def steps_array(
    first: list[tuple[int, int, int]], prices: pa.Array, extra: dict[int, list[Step]] | None = None
) -> pa.Array:
    """The `steps` column: per row a first block/increment/unit with one price, plus extra steps.

    `first[i]` is (first_block, increment, per_s) of row i; a first block unlike the increment
    makes two steps, as "30/6" billing is a 30 s block followed by 6 s blocks.
    """
    extra = extra or {}
    price_list = prices.to_pylist()
    starts: list[int] = []
    step_prices: list = []
    pers: list[int] = []
    incs: list[int] = []
    offsets = [0]
    for i, (fb, inc, per) in enumerate(first):
        inc = max(inc, 1)
        fb = fb or inc
        p = price_list[i]
        if fb == inc:
            starts.append(0)
            step_prices.append(p)
            pers.append(per)
            incs.append(inc)
        else:
            starts += [0, fb]
            step_prices += [p, p]
            pers += [per, per]
            incs += [fb, inc]
        for s in extra.get(i, ()):
            starts.append(s.start_s)
            step_prices.append(s.price)
            pers.append(s.per_s)
            incs.append(s.increment_s)
        offsets.append(len(starts))
    struct = pa.StructArray.from_arrays(
        [
            pa.array(starts, pa.int32()),
            pa.array(step_prices, PRICE_TYPE),
            pa.array(pers, pa.int32()),
            pa.array(incs, pa.int32()),
        ],
        fields=list(STEP_TYPE),
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct)


def finish_rates(table: pa.Table, file: str | Path) -> pa.Table:
    """Order rate rows, close open effective spans at the next row of the same key, reject duplicates."""
    table = table.cast(RATE_SCHEMA)
    if table.num_rows == 0:
        return table
    keys = ["prefix", "class_nation", "class_type", "band", "direction"]
    df = pl.DataFrame(table)
    df = df.with_columns(pl.col("effective_from").fill_null(datetime(1, 1, 1, tzinfo=UTC)).alias("_from")).sort(
        [*keys, "_from"], nulls_last=False
    )
    nxt = pl.col("_from").shift(-1).over(keys)
    df = df.with_columns(
        pl.when(pl.col("effective_to").is_null()).then(nxt).otherwise(pl.col("effective_to")).alias("_to"),
        nxt.alias("_next"),
        pl.col("line").shift(-1).over(keys).alias("_next_line"),
    )
    dupes = df.filter(pl.col("_next").is_not_null() & (pl.col("_next") == pl.col("_from")))
    if dupes.height:
        row = dupes.row(0, named=True)
        what = (
            f"prefix {row['prefix']}"
            if row["prefix"] is not None
            else f"class {row['class_nation']} {row['class_type']}"
        )
        band = f" in band {row['band']}" if row["band"] else ""
        raise TariffError(
            file,
            f"{what}{band} is priced twice (also on line {row['_next_line']})",
            row["_next_line"] or None,
            "prefix",
        )
    overlap = df.filter(pl.col("_next").is_not_null() & (pl.col("_to") > pl.col("_next")))
    if overlap.height:
        row = overlap.row(0, named=True)
        raise TariffError(
            file, f"effective dates overlap the row on line {row['_next_line']}", row["line"] or None, "effective_to"
        )
    bad = df.filter(pl.col("effective_to").is_not_null() & (pl.col("effective_to") <= pl.col("_from")))
    if bad.height:
        raise TariffError(file, "effective_to is not after effective_from", bad["line"][0] or None, "effective_to")
    df = df.with_columns(pl.col("_to").alias("effective_to")).drop(["_from", "_to", "_next", "_next_line"])
    df = df.sort("line")
    return df.to_arrow().cast(RATE_SCHEMA)


def empty_rates() -> pa.Table:
    """A version with no rate rows."""
    return RATE_SCHEMA.empty_table()
