"""Parse CUCM CDR and CMR flat files into typed Arrow tables, with every bad line kept as a reject.

Columns are mapped by header name (case-insensitive, with an alias table); only a file without a
header is mapped by its column count. The fast path hands a whole batch of files of one layout to
DuckDB's CSV reader; a file on which DuckDB reports any problem is parsed again line by line, so
one broken line never takes a good neighbour with it and every reject carries its exact line number.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.cucm_format import (
    CDR_FIELDS,
    CDR_LAYOUTS,
    CMR_FIELDS,
    CMR_LAYOUTS,
    IP_FIELDS,
    canonical_field,
    field_type,
)

NAME_RE = re.compile(r"(?:^|_)(cdr|cmr)_([A-Za-z0-9][\w-]*?)_(\d{1,3})_(\d{12})_(\d+)$")
TYPE_TOKEN_RE = re.compile(r"^(INTEGER|BIGINT|VARCHAR\(\d+\)|CHAR\(\d+\)|UNIQUEIDENTIFIER|STRING|TEXT)$", re.I)
REASON_VALUE_CHARS = 40

SOURCE_COLUMNS = ("source_file", "source_line", "day")
REJECT_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("kind", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("day", pa.date32()),
    ]
)


class CdrFileError(Exception):
    """A whole file cannot be read as CUCM CDR or CMR data (every line goes to rejects)."""


@dataclass(frozen=True)
class FileName:
    """What a CUCM file name says: tag_clusterId_nodeId_datetime(UTC)_seqNumber."""

    kind: str
    cluster: str
    node: str
    file_time: datetime
    seq: int


def parse_file_name(name: str) -> FileName | None:
    """Read a CUCM file name such as cdr_StandAloneCluster_01_202112131402_168485, or None."""
    m = NAME_RE.search(name)
    if not m:
        return None
    try:
        when = datetime.strptime(m.group(4), "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    return FileName(m.group(1), m.group(2), m.group(3), when, int(m.group(5)))


def is_complete_name(name: str) -> bool:
    """CUCM prefixes a file with '_' while it is still being written; hidden files are not data."""
    return not (name.startswith("_") or name.startswith("."))


@dataclass
class SourceFile:
    """One CDR/CMR file read into memory, with its layout worked out."""

    name: str
    data: bytes
    checksum: str
    kind: str = ""
    names: tuple[str, ...] = ()
    header_lines: int = 0
    file_name: FileName | None = None
    error: str = ""
    path: Path | None = None

    @property
    def fallback_day(self) -> date:
        """The day rows without a usable time of their own are filed under."""
        when = self.file_name.file_time if self.file_name else datetime.now(UTC)
        return when.date()


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _csv_fields(line: bytes) -> list[str]:
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    return next(csv.reader([text]), [])


def sniff(name: str, data: bytes) -> SourceFile:
    """Work out kind (cdr/cmr), column names and header lines of a file; errors go in `.error`."""
    src = SourceFile(name=name, data=data, checksum=checksum(data), file_name=parse_file_name(name))
    lines = data.split(b"\n", 2)
    first = lines[0].lstrip(b"\xef\xbb\xbf") if lines else b""
    if not first.strip():
        src.kind = src.file_name.kind if src.file_name else ""
        if data.strip():
            src.error = "the first line is empty: a CUCM file starts with its header or a record"
        return src
    fields = _csv_fields(first)
    if fields and fields[0].strip().lower() == "cdrrecordtype":
        lowered = {f.strip().lower() for f in fields}
        src.kind = "cmr" if {"directorynum", "callidentifier"} & lowered else "cdr"
        names = []
        for raw in fields:
            known = canonical_field(src.kind, raw)
            names.append(known[0] if known else raw.strip())
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            src.error = f"the header names these columns twice: {', '.join(sorted(dupes))}"
            return src
        src.names = tuple(names)
        second = _csv_fields(lines[1]) if len(lines) > 1 else []
        is_type_line = bool(second) and all(TYPE_TOKEN_RE.match(t.strip()) for t in second)
        src.header_lines = 2 if is_type_line else 1
        return src
    record_type = fields[0].strip() if fields else ""
    count = len(fields)
    if record_type == "1" and count in CDR_LAYOUTS:
        src.kind, src.names = "cdr", CDR_LAYOUTS[count]
    elif record_type == "2" and count in CMR_LAYOUTS:
        src.kind, src.names = "cmr", CMR_LAYOUTS[count]
    else:
        src.kind = src.file_name.kind if src.file_name else ""
        src.error = (
            f"no header line, and the first record (cdrRecordType {record_type!r}, {count} columns) "
            f"matches no known layout (CDR: 118/129/133 columns; CMR: 19/44/46/48 columns)"
        )
    return src


# --- typing SQL ---------------------------------------------------------------------------------

FULL_FIELDS = {"cdr": [n for n, _ in CDR_FIELDS], "cmr": [n for n, _ in CMR_FIELDS]}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _typed_select(kind: str, names: Sequence[str], fallback_day: str) -> str:
    """SELECT list turning VARCHAR columns c0..cN into the lake schema of `kind`, plus `_reason`."""
    position = {n: i for i, n in enumerate(names)}
    exprs, checks = [], []
    extras = [n for n in names if n not in FULL_FIELDS[kind]]
    for name in FULL_FIELDS[kind] + extras:
        lake_type = field_type(kind, name)
        i = position.get(name)
        if i is None:
            exprs.append(f"NULL::{lake_type} AS {_quote_ident(name)}")
            continue
        col = f"c{i}"
        if lake_type == "BIGINT" or name in IP_FIELDS:
            value = f"TRY_CAST(NULLIF(TRIM({col}), '') AS BIGINT)"
            expr = f"ip_text({value})" if name in IP_FIELDS else value
            checks.append(
                f"CASE WHEN TRIM({col}) <> '' AND TRY_CAST(TRIM({col}) AS BIGINT) IS NULL "
                f"THEN {_sql_str(name + ' is not an integer: ')} || left({col}, {REASON_VALUE_CHARS}) END"
            )
        else:
            expr = f"NULLIF({col}, '')"
        exprs.append(f"{expr} AS {_quote_ident(name)}")
    record_type = "1" if kind == "cdr" else "2"
    checks.insert(
        0,
        f"CASE WHEN TRIM(c{position['cdrRecordType']}) <> '{record_type}' THEN "
        f"'cdrRecordType is ' || coalesce(left(c{position['cdrRecordType']}, 10), 'empty') || "
        f"' in a {kind.upper()} file (expected {record_type})' END"
        if "cdrRecordType" in position
        else "'the file has no cdrRecordType column'",
    )
    if kind == "cdr":
        t = position.get("dateTimeOrigination")
        day_src = f"TRY_CAST(NULLIF(TRIM(c{t}), '') AS BIGINT)" if t is not None else "NULL"
        checks.append(f"CASE WHEN coalesce({day_src}, 0) <= 0 THEN 'dateTimeOrigination is empty or zero' END")
    else:
        t = position.get("dateTimeStamp")
        day_src = f"TRY_CAST(NULLIF(TRIM(c{t}), '') AS BIGINT)" if t is not None else "NULL"
    day = (
        f"CASE WHEN coalesce({day_src}, 0) > 0 THEN DATE '1970-01-01' + CAST(floor({day_src} / 86400) AS INTEGER)"
        f" ELSE DATE {_sql_str(fallback_day)} END AS day"
    )
    reason = f"concat_ws('; ', {', '.join(checks)}) AS _reason" if checks else "'' AS _reason"
    return ",\n".join([*exprs, day, reason])


IP_MACRO = """
CREATE OR REPLACE MACRO ip_text(v) AS
  CASE WHEN v IS NULL OR v = 0 THEN NULL
       ELSE CAST(v & 255 AS VARCHAR) || '.' || CAST((v >> 8) & 255 AS VARCHAR) || '.' ||
            CAST((v >> 16) & 255 AS VARCHAR) || '.' || CAST((v >> 24) & 255 AS VARCHAR) END
"""


def new_connection(threads: int = 2, memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up for parsing (UTC, bounded memory, the ip_text macro)."""
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    con.execute("SET TimeZone = 'UTC'")
    con.execute(IP_MACRO)
    return con


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class FileResult:
    """What became of one source file."""

    kind: str
    rows: int = 0
    rejects: int = 0
    days: set[str] = field(default_factory=set)
    error: str = ""


@dataclass
class ParsedBatch:
    """Typed rows of a batch of files, their rejects, and a count per file."""

    cdr: pa.Table | None
    cmr: pa.Table | None
    rejects: pa.Table
    files: dict[str, FileResult]


def _expected_lines(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _clean_for_fast_path(src: SourceFile) -> bool:
    d = src.data
    return not (d.startswith(b"\xef\xbb\xbf") or b"\n\n" in d or b"\n\r\n" in d or d.startswith(b"\n"))


def _line_table(src: SourceFile) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """Slow path: split one file into lines, parse each on its own; (good rows as VARCHAR, rejects)."""
    n = len(src.names)
    cols: list[list[str]] = [[] for _ in range(n)]
    line_numbers: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    lines = src.data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if number <= src.header_lines:
            continue
        line = raw.rstrip(b"\r")
        if number == 1:
            line = line.lstrip(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            rejects.append((number, f"not valid UTF-8 (byte {exc.start + 1})", line.decode("utf-8", "replace")))
            continue
        try:
            fields = next(csv.reader([text], strict=True))
        except (csv.Error, StopIteration) as exc:
            rejects.append((number, f"malformed CSV: {exc}", text))
            continue
        if len(fields) != n:
            rejects.append((number, f"expected {n} fields, found {len(fields)}", text))
            continue
        line_numbers.append(number)
        for i, value in enumerate(fields):
            cols[i].append(value)
    table = pa.table({f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)})
    table = table.append_column("_line", pa.array(line_numbers, pa.int64()))
    return table, rejects


class Parser:
    """Parses batches of SourceFiles with one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None):
        self.con = con or new_connection()
        self._scan = 0

    def parse(self, files: Sequence[SourceFile]) -> ParsedBatch:
        """Typed CDR and CMR tables (with source_file, source_line, day) and rejects for a batch."""
        results: dict[str, FileResult] = {}
        typed: dict[str, list[pa.Table]] = {"cdr": [], "cmr": []}
        reject_rows: list[dict] = []

        def reject(src: SourceFile, line: int, reason: str, raw: str) -> None:
            reject_rows.append(
                {
                    "source_file": src.name,
                    "source_line": line,
                    "kind": src.kind or "unknown",
                    "reason": reason,
                    "raw": raw,
                    "day": src.fallback_day,
                }
            )
            results[src.name].rejects += 1

        groups: dict[tuple, list[SourceFile]] = defaultdict(list)
        for src in files:
            results[src.name] = FileResult(kind=src.kind, error=src.error)
            if src.error:
                for number, raw in enumerate(src.data.split(b"\n"), start=1):
                    if raw.strip():
                        reject(src, number, src.error, raw.decode("utf-8", "replace").rstrip("\r"))
                continue
            if not src.names:
                continue
            fast = _clean_for_fast_path(src)
            groups[(src.kind, src.names, src.header_lines, fast)].append(src)

        for (kind, names, header_lines, fast), group in groups.items():
            slow: list[SourceFile] = []
            if fast:
                table, bad = self._fast(kind, names, header_lines, group)
                slow = [s for s in group if s.name in bad]
                if table is not None:
                    typed[kind].append(self._split_reasons(kind, table, group, reject))
            else:
                slow = list(group)
            for src in slow:
                raw_table, line_rejects = _line_table(src)
                for number, reason, text in line_rejects:
                    reject(src, number, reason, text)
                table = self._type_arrow(kind, names, src, raw_table)
                typed[kind].append(self._split_reasons(kind, table, [src], reject))

        out: dict[str, pa.Table | None] = {}
        for kind, tables in typed.items():
            tables = [t for t in tables if t.num_rows]
            merged = pa.concat_tables(tables, promote_options="default") if tables else None
            out[kind] = merged
            if merged is not None:
                counts = pl.DataFrame(merged.select(["source_file", "day"])).group_by("source_file", "day").len()
                for name, day, n in counts.iter_rows():
                    results[name].rows += n
                    results[name].days.add(str(day))
        rejects = pa.Table.from_pylist(reject_rows, schema=REJECT_SCHEMA)
        for row in reject_rows:
            results[row["source_file"]].days.add(str(row["day"]))
        return ParsedBatch(out["cdr"], out["cmr"], rejects, results)

    # -- fast path: one DuckDB CSV scan over many files of one layout --------------------------
    def _fast(
        self, kind: str, names: tuple[str, ...], header_lines: int, group: list[SourceFile]
    ) -> tuple[pa.Table | None, set[str]]:
        self._scan += 1
        rej_table, rej_scan = f"rej_{self._scan}", f"scan_{self._scan}"
        paths = [str(s.path) for s in group]
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
        select = _typed_select(kind, names, "1970-01-01")
        sql = f"""
            SELECT filename AS _file, {select}
            FROM read_csv(?, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"',
                          columns = {columns}, filename = true, store_rejects = true,
                          rejects_table = '{rej_table}', rejects_scan = '{rej_scan}',
                          null_padding = false, strict_mode = true, max_line_size = 1048576)
        """
        bad: set[str] = set()
        by_path = {str(s.path): s for s in group}
        try:
            table = self.con.sql(sql, params=[paths]).to_arrow_table()
            rejected = self.con.execute(
                f"SELECT DISTINCT s.file_path FROM {rej_table} e JOIN {rej_scan} s USING (scan_id, file_id)"
            ).fetchall()
            bad.update(by_path[p].name for (p,) in rejected if p in by_path)
        except duckdb.Error:
            return None, {s.name for s in group}
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {rej_table}")
            self.con.execute(f"DROP TABLE IF EXISTS {rej_scan}")
        df = pl.DataFrame(table)
        df = df.with_columns(pl.int_range(pl.len()).over("_file").alias("_index"))
        counts = dict(df.group_by("_file").len().iter_rows())
        for src in group:
            expected = _expected_lines(src.data)
            if counts.get(str(src.path), 0) != expected:
                bad.add(src.name)
        names_by_path = {str(s.path): s.name for s in group}
        fallback = {str(s.path): s.fallback_day for s in group}
        df = df.filter(
            ~pl.col("_file").replace_strict(names_by_path, default="").is_in(list(bad))
            & (pl.col("_index") >= header_lines)
        )
        df = df.with_columns(
            pl.col("_file").replace_strict(names_by_path, return_dtype=pl.String).alias("source_file"),
            (pl.col("_index") + 1).cast(pl.Int64).alias("source_line"),
            pl.when(pl.col("day") == date(1970, 1, 1))
            .then(pl.col("_file").replace_strict(fallback, return_dtype=pl.Date))
            .otherwise(pl.col("day"))
            .alias("day"),
        ).drop("_file", "_index")
        return df.to_arrow(), bad

    def _type_arrow(self, kind: str, names: tuple[str, ...], src: SourceFile, raw: pa.Table) -> pa.Table:
        select = _typed_select(kind, names, str(src.fallback_day))
        self.con.register("_raw_lines", raw)
        try:
            return self.con.sql(
                f"SELECT {select}, _line AS source_line, {_sql_str(src.name)} AS source_file FROM _raw_lines"
            ).to_arrow_table()
        finally:
            self.con.unregister("_raw_lines")

    @staticmethod
    def _split_reasons(kind: str, table: pa.Table, group: list[SourceFile], reject) -> pa.Table:
        """Move rows whose values failed their type checks to rejects; return the good rows."""
        df = pl.DataFrame(table)
        failed = df.filter(pl.col("_reason") != "")
        if failed.height:
            by_name = {s.name: s for s in group}
            for name, line, reason in failed.select("source_file", "source_line", "_reason").iter_rows():
                src = by_name[name]
                lines = src.data.split(b"\n")
                raw = lines[line - 1].rstrip(b"\r").decode("utf-8", "replace") if line <= len(lines) else ""
                reject(src, line, reason, raw)
        good = df.filter(pl.col("_reason") == "").drop("_reason")
        ordered = [c for c in good.columns if c not in SOURCE_COLUMNS] + list(SOURCE_COLUMNS)
        return good.select(ordered).to_arrow()


def read_source(path: Path, name: str | None = None) -> SourceFile:
    """Read a file from disk and work out its layout."""
    data = path.read_bytes()
    src = sniff(name or path.name, data)
    src.path = path
    return src
