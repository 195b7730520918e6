"""Column-wise reading of tariff CSV files: exact line numbers, vectorised conversion, precise errors."""

from __future__ import annotations

import csv
import io
import itertools
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

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
        # "".join is one C call: cheaper than testing each cell of 200,000 rows
        if not row or not "".join(row).strip():
            continue
        if comment and row[0].lstrip().startswith(comment):
            continue
        rows.append(row)
        lines.append(line)
    return rows, lines


def fast_columns(
    text: str, delimiter: str = ",", header: bool = True
) -> tuple[list[str], list[pa.Array], list[int]] | None:
    """Header names, string columns and line numbers of a large CSV, parsed by Arrow's reader.

    None when the text needs the careful reader: a row of the wrong width, a quoted field over
    several lines, a line of nothing but separators. The careful reader then finds the exact line.
    """
    raw = text.split("\n")
    lines = [i + 1 for i, line in enumerate(raw) if line.strip().strip(delimiter).strip()]
    if not lines:
        return None
    first = next(csv.reader([raw[lines[0] - 1]], delimiter=delimiter))
    names = [f"c{i}" for i in range(len(first))]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=lines[0] - 1 + int(header)),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeError):
        return None
    body_lines = lines[int(header) :]
    if table.num_rows != len(body_lines):
        return None
    columns = [_blank_to_null(table.column(i).combine_chunks()) for i in range(table.num_columns)]
    return [c.strip() for c in first], columns, body_lines


def string_columns(rows: Sequence[Sequence[str]], width: int) -> list[pa.Array]:
    """The rows as `width` string columns, trimmed; blanks and missing cells are null."""
    if not rows:
        return [pa.nulls(0, pa.string()) for _ in range(width)]
    cols = list(itertools.zip_longest(*rows, fillvalue=""))
    return [_blank_to_null(cols[i]) if i < len(cols) else pa.nulls(len(rows), pa.string()) for i in range(width)]


def constant(value, n: int, type_: pa.DataType) -> pa.Array:
    """A column of one value."""
    return pa.repeat(pa.scalar(value, type_), n)


def first_index(mask: pa.Array) -> int | None:
    """The position of the first true value of a boolean column (nulls are false)."""
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():
        return None
    return pc.index(filled, True).as_py()


def _blank_to_null(values: Sequence[str | None] | pa.Array) -> pa.Array:
    arr = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def decimals(
    values: Sequence[str | None] | pa.Array, lines: list[int], file: str | Path, field: str, *, comma: bool = False
) -> pa.Array:
    """Amounts as decimal128(18, 8); blanks are null; the first bad value raises naming its line."""
    arr = _blank_to_null(values)
    if comma:
        arr = pc.replace_substring(arr, ",", ".")
    try:
        out = pc.cast(arr, PRICE_TYPE)
        if first_index(pc.less(out, pa.scalar(0, PRICE_TYPE))) is None:
            return out
    except pa.ArrowException:
        pass
    for value, line in zip(_blank_to_null(values).to_pylist(), lines, strict=True):
        if value is not None:
            parse_money(value, file, line, field, comma=comma)
    raise TariffError(file, "an amount could not be read", None, field)


def integers(
    values: Sequence[str | None] | pa.Array, lines: list[int], file: str | Path, field: str, *, minimum: int = 0
) -> pa.Array:
    """Whole seconds as int32; blanks are null."""
    arr = _blank_to_null(values)
    try:
        out = pc.cast(arr, pa.int32())
        if first_index(pc.less(out, minimum)) is None:
            return out
    except pa.ArrowException:
        pass
    for value, line in zip(arr.to_pylist(), lines, strict=True):
        if value is not None:
            parse_seconds(value, file, line, field, minimum=minimum)
    raise TariffError(file, "a number of seconds could not be read", None, field)


def instants(
    values: Sequence[str | None] | pa.Array, lines: list[int], zone: zoneinfo.ZoneInfo, file: str | Path, field: str
) -> pa.Array:
    """Dates or times as UTC timestamps; blanks are null (decks repeat a few dates, so each is parsed once)."""
    arr = _blank_to_null(values)
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.timestamp("us", tz="UTC"))
    distinct = pc.unique(arr.drop_null()).to_pylist()
    parsed = {}
    for text in distinct:
        line = lines[pc.index(arr, text).as_py()]
        parsed[text] = parse_instant(text, zone, file, line, field)
    keys = pa.array(distinct, pa.string())
    values_ts = pa.array([parsed[t] for t in distinct], pa.timestamp("us", tz="UTC"))
    return pc.take(values_ts, pc.index_in(arr, value_set=keys))


def steps_array(
    first_block: pa.Array,
    increment: pa.Array,
    per: pa.Array,
    prices: pa.Array,
    extra: dict[int, list[Step]] | None = None,
) -> pa.Array:
    """The `steps` column: per row a first block/increment/unit with one price, plus extra steps.

    A first block unlike the increment makes two steps, as "30/6" billing is a 30 s block followed
    by 6 s blocks. Rows that all bill alike (a deck) are built without a Python loop.
    """
    n = len(prices)
    extra = extra or {}
    fb_inc_per = [pc.min_max(a) for a in (first_block, increment, per)] if n else []
    uniform = n and not extra and all(m["min"] == m["max"] for m in fb_inc_per)
    if uniform:
        fb, inc, unit = (m["min"].as_py() for m in fb_inc_per)
        inc = max(inc, 1)
        fb = fb or inc
        k = 1 if fb == inc else 2
        take = pa.array([i for i in range(n) for _ in range(k)], pa.int64()) if k == 2 else None
        struct = pa.StructArray.from_arrays(
            [
                pa.array(([0] if k == 1 else [0, fb]) * n, pa.int32()),
                pc.take(prices, take) if take is not None else prices,
                constant(unit, n * k, pa.int32()),
                pa.array(([inc] if k == 1 else [fb, inc]) * n, pa.int32()),
            ],
            fields=list(STEP_TYPE),
        )
        return pa.ListArray.from_arrays(pa.array(range(0, n * k + 1, k), pa.int32()), struct)
    price_list = prices.to_pylist()
    starts: list[int] = []
    step_prices: list = []
    pers: list[int] = []
    incs: list[int] = []
    offsets = [0]
    rows = zip(first_block.to_pylist(), increment.to_pylist(), per.to_pylist(), strict=True)
    for i, (fb, inc, unit) in enumerate(rows):
        inc = max(inc, 1)
        fb = fb or inc
        p = price_list[i]
        if fb == inc:
            starts.append(0)
            step_prices.append(p)
            pers.append(unit)
            incs.append(inc)
        else:
            starts += [0, fb]
            step_prices += [p, p]
            pers += [unit, unit]
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
    df = pl.DataFrame(table).with_columns(
        pl.concat_str([pl.col(k).fill_null("\x00") for k in keys], separator="\x1f").alias("_key")
    )
    dated = table.column("effective_from").null_count < table.num_rows or (
        table.column("effective_to").null_count < table.num_rows
    )
    if not dated:
        # the usual case: one row per key, so a duplicate key is the only mistake possible
        dupes = df.filter(pl.col("_key").is_duplicated())
        if dupes.height:
            first = dupes.sort("line").row(0, named=True)
            lines = sorted(dupes.filter(pl.col("_key") == first["_key"])["line"].to_list())
            _duplicate(file, first, lines[0], lines[1])
        return table
    df = df.with_columns(pl.col("effective_from").fill_null(datetime(1, 1, 1, tzinfo=UTC)).alias("_from")).sort(
        ["_key", "_from", "line"]
    )
    same = pl.col("_key") == pl.col("_key").shift(-1)
    df = df.with_columns(
        pl.when(same).then(pl.col("_from").shift(-1)).alias("_next"),
        pl.when(same).then(pl.col("line").shift(-1)).alias("_next_line"),
    )
    df = df.with_columns(
        pl.when(pl.col("effective_to").is_null()).then(pl.col("_next")).otherwise(pl.col("effective_to")).alias("_to")
    )
    dupes = df.filter(pl.col("_next").is_not_null() & (pl.col("_next") == pl.col("_from")))
    if dupes.height:
        row = dupes.row(0, named=True)
        _duplicate(file, row, row["line"], row["_next_line"])
    overlap = df.filter(pl.col("_next").is_not_null() & (pl.col("_to") > pl.col("_next")))
    if overlap.height:
        row = overlap.row(0, named=True)
        raise TariffError(
            file, f"effective dates overlap the row on line {row['_next_line']}", row["line"] or None, "effective_to"
        )
    bad = df.filter(pl.col("effective_to").is_not_null() & (pl.col("effective_to") <= pl.col("_from")))
    if bad.height:
        raise TariffError(file, "effective_to is not after effective_from", bad["line"][0] or None, "effective_to")
    df = df.with_columns(pl.col("_to").alias("effective_to")).drop(["_key", "_from", "_to", "_next", "_next_line"])
    return df.sort("line").to_arrow().cast(RATE_SCHEMA)


def _duplicate(file: str | Path, row: dict, first: int, again: int) -> None:
    if row["prefix"] is not None:
        what = f"prefix {row['prefix']}"
    else:
        what = f"class {row['class_nation']} {row['class_type']}"
    band = f" in band {row['band']}" if row["band"] else ""
    raise TariffError(file, f"{what}{band} is priced twice (first on line {first})", again or None, "prefix")
