"""Parse CUCM CDR and CMR flat files into typed Arrow tables, with every bad line kept as a reject.

Columns are mapped by header name (case-insensitive, with an alias table); only a file without a
header is mapped by its column count. The fast path hands a whole batch of files of one layout to
DuckDB's CSV reader; a file on which DuckDB reports any problem is parsed again line by line, so
one broken line never takes a good neighbour with it and every reject carries its exact line number.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
import shutil
import tempfile
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
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
    # Lines at the start already loaded from an earlier, shorter version of this file (a cut transfer
    # completed later): they are not parsed again.
    loaded_lines: int = 0

    @property
    def skip(self) -> int:
        """Lines at the start that are not records to parse: the header, or what was loaded before."""
        return max(self.header_lines, self.loaded_lines)

    @property
    def fallback_day(self) -> date:
        """The day rows without a usable time of their own are filed under."""
        when = self.file_name.file_time if self.file_name else datetime.now(UTC)
        return when.date()


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _csv_fields(line: bytes) -> list[str]:
    """The fields of one line; a line CSV cannot read (a stray line break in a field) raises csv.Error."""
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    return next(csv.reader([text]), [])


@functools.lru_cache(maxsize=64)
def _header(line: bytes) -> tuple[str, tuple[str, ...], str]:
    """Kind, Cisco column names and any error of a header line (cached: every file of a node repeats it)."""
    try:
        fields = _csv_fields(line)
    except csv.Error as exc:
        return "cdr", (), f"the header line cannot be read as CSV ({exc})"
    lowered = {f.strip().lower() for f in fields}
    kind = "cmr" if {"directorynum", "callidentifier"} & lowered else "cdr"
    names = []
    for raw in fields:
        known = canonical_field(kind, raw)
        names.append(known[0] if known else raw.strip())
    dupes = sorted(n for n, c in Counter(names).items() if c > 1)
    error = f"the header names these columns twice: {', '.join(dupes)}" if dupes else ""
    if "" in names:
        error = f"the header has a column without a name (column {names.index('') + 1})"
    return kind, tuple(names), error


@functools.lru_cache(maxsize=64)
def _is_type_line(line: bytes) -> bool:
    try:
        second = _csv_fields(line)
    except csv.Error:
        return False
    return bool(second) and all(TYPE_TOKEN_RE.match(t.strip()) for t in second)


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
    if first.lstrip(b'"').lower().startswith(b"cdrrecordtype"):
        src.kind, names, error = _header(first)
        if error:
            src.kind = src.file_name.kind if src.file_name else src.kind
            src.error = error
            return src
        src.names = names
        src.header_lines = 2 if len(lines) > 1 and _is_type_line(lines[1]) else 1
        return src
    try:
        fields = _csv_fields(first)
    except csv.Error:
        fields = []
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
INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_integer_field(kind: str, name: str) -> bool:
    return field_type(kind, name) == "BIGINT" or name in IP_FIELDS


def _typed_sql(kind: str, names: Sequence[str], source: str) -> str:
    """SELECT turning `source` (VARCHAR c0..cN, source_file, source_line, fallback_day) into the lake schema.

    Adds `_ok`: false when a value fails its type or a record-level rule; such rows become rejects
    (their reasons are worked out from the raw line, see `reasons()`).
    """
    position = {n: i for i, n in enumerate(names)}
    exprs, oks = [], []
    extras = [n for n in names if n not in FULL_FIELDS[kind]]
    for name in FULL_FIELDS[kind] + extras:
        lake_type = field_type(kind, name)
        i = position.get(name)
        if i is None:
            exprs.append(f"NULL::{lake_type} AS {_quote_ident(name)}")
        elif _is_integer_field(kind, name):
            value = f"TRY_CAST(NULLIF(c{i}, '') AS BIGINT)"
            exprs.append(f"{'ip_text(' + value + ')' if name in IP_FIELDS else value} AS {_quote_ident(name)}")
            oks.append(f"(c{i} IS NULL OR c{i} = '' OR {value} IS NOT NULL)")
        else:
            exprs.append(f"NULLIF(c{i}, '') AS {_quote_ident(name)}")
    record_type = "1" if kind == "cdr" else "2"
    rt = position.get("cdrRecordType")
    oks.insert(0, f"coalesce(c{rt} = '{record_type}', false)" if rt is not None else "false")
    stamp = "dateTimeOrigination" if kind == "cdr" else "dateTimeStamp"
    t = position.get(stamp)
    when = f"TRY_CAST(NULLIF(c{t}, '') AS BIGINT)" if t is not None else "NULL::BIGINT"
    if kind == "cdr":
        oks.append(f"coalesce({when}, 0) > 0")
    day = (
        f"CASE WHEN coalesce({when}, 0) > 0 THEN DATE '1970-01-01' + CAST(floor({when} / 86400) AS INTEGER)"
        f" ELSE fallback_day END AS day"
    )
    return (
        "SELECT "
        + ",\n".join([*exprs, "source_file", "source_line", day, " AND ".join(oks) + " AS _ok"])
        + f"\nFROM {source}"
    )


def reasons(kind: str, names: Sequence[str], fields: Sequence[str]) -> str:
    """Why a parsed line was refused: every field whose value breaks its type or a record rule."""
    out = []
    record_type = "1" if kind == "cdr" else "2"
    values = dict(zip(names, fields, strict=False))
    got = values.get("cdrRecordType", "")
    if got != record_type:
        out.append(f"cdrRecordType is {got[:10] or 'empty'} in a {kind.upper()} file (expected {record_type})")
    for name, value in values.items():
        if value and _is_integer_field(kind, name) and not INTEGER_TEXT.match(value):
            out.append(f"{name} is not an integer: {value[:REASON_VALUE_CHARS]}")
    if kind == "cdr" and (values.get("dateTimeOrigination", "") in ("", "0")):
        out.append("dateTimeOrigination is empty or zero")
    return "; ".join(out) or "the values break a record rule"


IP_MACRO = """
CREATE OR REPLACE MACRO ip_text(v) AS
  CASE WHEN v IS NULL OR v = 0 THEN NULL
       ELSE CAST(v & 255 AS VARCHAR) || '.' || CAST((v >> 8) & 255 AS VARCHAR) || '.' ||
            CAST((v >> 16) & 255 AS VARCHAR) || '.' || CAST((v >> 24) & 255 AS VARCHAR) END
"""


def new_connection(
    threads: int = 2, memory_limit: str = "2GB", temp_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up for parsing (UTC, bounded memory, the ip_text macro)."""
    config: dict[str, str | bool | int | float | list[str]] = {"threads": threads, "memory_limit": memory_limit}
    if temp_dir is not None:
        config["temp_directory"] = str(temp_dir)
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
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
    """A parsed batch: typed Parquet files staged per lake dataset and UTC day, rejects, counts per file."""

    staged: dict[str, dict[str, list[Path]]]
    rejects: pa.Table
    files: dict[str, FileResult]
    # UTC days holding CMRs whose call has no CDR in the batch: that call may have started the day before
    cmr_orphan_days: set[str] = field(default_factory=set)

    def rows(self, kind: str) -> int:
        """How many good rows of a kind ('cdr' or 'cmr') the batch holds."""
        return sum(r.rows for r in self.files.values() if r.kind == kind)


def _records_start(src: SourceFile) -> int:
    """Where the file's records begin, after its header lines (its length when every line was loaded before).

    An offset, not a copy: files are read whole, and copying each one twice more was a measurable
    part of a large ingest.
    """
    start = 0
    for _ in range(src.skip):
        end = src.data.find(b"\n", start)
        if end < 0:
            return len(src.data)
        start = end + 1
    return start


def _clean_for_fast_path(src: SourceFile) -> bool:
    """Whether a file may go through a batch scan: no byte-order mark or empty line where its records start.

    Empty lines further in are not searched for (that search alone took a twentieth of a large
    ingest): the scan skips them, so the batch's rows stop lining up with its lines; its last line
    then meets no row, the record type check fails, and the batch is split until that file is read
    line by line (`tests/warehouse/test_ingest_faults.py` holds this to account).
    """
    return not src.data.startswith((b"\xef\xbb\xbf", b"\n", b"\r\n"), _records_start(src))


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
        if number <= src.skip:
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
    table = table.append_column("source_line", pa.array(line_numbers, pa.int64()))
    table = table.append_column("source_file", pa.array([src.name] * len(line_numbers), pa.string()))
    table = table.append_column("fallback_day", pa.array([src.fallback_day] * len(line_numbers), pa.date32()))
    return table, rejects


def _raw_line(src: SourceFile, number: int) -> str:
    lines = src.data.split(b"\n")
    return lines[number - 1].rstrip(b"\r").decode("utf-8", "replace") if 0 < number <= len(lines) else ""


def _strict_sql(kind: str, names: Sequence[str], source: str, line: str = "source_line") -> str:
    """SELECT casting `source` into the lake schema with strict casts: any bad value raises an error.

    The fast path uses it on whole batches; a batch that raises is split until the files at fault are
    found, and those are read line by line (`_typed_sql` there says exactly what is wrong).
    """
    position = {n: i for i, n in enumerate(names)}
    exprs = []
    extras = [n for n in names if n not in FULL_FIELDS[kind]]
    record_type = "1" if kind == "cdr" else "2"
    for name in FULL_FIELDS[kind] + extras:
        lake_type = field_type(kind, name)
        i = position.get(name)
        if i is None:
            exprs.append(f"NULL::{lake_type} AS {_quote_ident(name)}")
        elif name == "cdrRecordType":
            exprs.append(
                f"CASE WHEN c{i} = '{record_type}' THEN {record_type}::BIGINT "
                f"ELSE error('cdrRecordType is not {record_type}') END AS cdrRecordType"
            )
        elif name in IP_FIELDS:
            exprs.append(f"ip_text(CAST(c{i} AS BIGINT)) AS {_quote_ident(name)}")
        elif lake_type == "BIGINT":
            exprs.append(f"CAST(c{i} AS BIGINT) AS {_quote_ident(name)}")
        else:
            exprs.append(f"c{i} AS {_quote_ident(name)}")
    stamp = "dateTimeOrigination" if kind == "cdr" else "dateTimeStamp"
    t = position.get(stamp)
    when = f"CAST(c{t} AS BIGINT)" if t is not None else "NULL::BIGINT"
    if kind == "cdr":
        day = (
            f"CASE WHEN {when} > 0 THEN DATE '1970-01-01' + CAST(floor({when} / 86400) AS INTEGER) "
            f"ELSE error('dateTimeOrigination is empty or zero') END AS day"
        )
    else:
        day = (
            f"CASE WHEN coalesce({when}, 0) > 0 THEN DATE '1970-01-01' + CAST(floor({when} / 86400) AS INTEGER) "
            f"ELSE fallback_day END AS day"
        )
    return "SELECT " + ",\n".join([*exprs, "source_file", f"{line} AS source_line", day]) + f"\nFROM {source}"


def _connection() -> duckdb.DuckDBPyConnection:
    # one thread per scan: rows then come out in file order, which is how lines are numbered
    return new_connection(threads=1, memory_limit="1GB")


def _copy_sql(select: str, out: Path, prefix: str) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    return (
        f"COPY ({select}) TO {_sql_str(str(out))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), "
        f"WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN {_sql_str(prefix + '-{i}')})"
    )


class Parser:
    """Parses batches of SourceFiles into typed Parquet files staged per lake dataset and UTC day.

    The fast path concatenates the records of clean files of one layout into a buffer and streams it
    through one DuckDB CSV scan, strict casts and a partitioned Parquet write, numbering rows in scan
    order (one thread per scan keeps file order) and mapping them back to file and line; batches run
    side by side on the available cores. A scan that fails is split until the files at fault are
    found; those are read line by line with Python's csv module, so one broken line never takes a good
    neighbour with it, and every reject carries its exact line number and reason.
    """

    def __init__(self, stage: Path, scratch: Path | None = None, workers: int = 2, chunk_bytes: int = 64 << 20):
        self.stage = stage
        self.scratch = scratch or Path(tempfile.gettempdir())
        self.workers = max(1, workers)
        self.chunk_bytes = chunk_bytes
        self._n = 0
        self._lock = threading.Lock()

    def _name(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}{self._n}"

    def parse(self, files: Sequence[SourceFile], batch_id: str = "batch") -> ParsedBatch:
        """Parse a batch; typed rows are written under `stage/raw_cdr|raw_cmr/.../day=D/*.parquet`."""
        results: dict[str, FileResult] = {}
        reject_rows: list[dict] = []
        self.batch_id = batch_id

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
        slow: list[SourceFile] = []
        for src in files:
            results[src.name] = FileResult(kind=src.kind, error=src.error)
            if src.error:
                for number, raw in enumerate(src.data.split(b"\n"), start=1):
                    if raw.strip() and number > src.loaded_lines:
                        reject(src, number, src.error, raw.decode("utf-8", "replace").rstrip("\r"))
                continue
            if not src.names:
                continue
            if _clean_for_fast_path(src):
                groups[(src.kind, src.names)].append(src)
            else:
                slow.append(src)

        jobs = []
        for (kind, names), group in groups.items():
            chunk: list[SourceFile] = []
            size = 0
            # spread each layout over the workers, in chunks small enough to bound memory
            target = min(self.chunk_bytes, max(1 << 20, sum(len(s.data) for s in group) // self.workers + 1))
            for src in group:
                chunk.append(src)
                size += len(src.data)
                if size >= target:
                    jobs.append((kind, names, chunk))
                    chunk, size = [], 0
            if chunk:
                jobs.append((kind, names, chunk))
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for failed in pool.map(lambda job: self._fast(*job), jobs):
                slow += failed
        for src in slow:
            self._slow(src, reject)

        staged: dict[str, dict[str, list[Path]]] = {}
        for kind in ("cdr", "cmr"):
            root = self.stage / f"raw_{kind}"
            parts = sorted(root.glob("*/day=*/*.parquet")) if root.exists() else []
            if not parts:
                continue
            con = _connection()
            try:
                counts = con.execute(
                    "SELECT source_file, CAST(day AS VARCHAR), count(*) FROM read_parquet(?) GROUP BY ALL",
                    [[str(p) for p in parts]],
                ).fetchall()
            finally:
                con.close()
            for name, day, n in counts:
                results[name].rows += n
                results[name].days.add(day)
            for part in parts:
                staged.setdefault(f"raw_{kind}", {}).setdefault(part.parent.name.removeprefix("day="), []).append(part)
        for row in reject_rows:
            results[row["source_file"]].days.add(str(row["day"]))
        rejects = pa.Table.from_pylist(reject_rows, schema=REJECT_SCHEMA)
        return ParsedBatch(staged, rejects, results, self._cmr_orphan_days(staged))

    @staticmethod
    def _cmr_orphan_days(staged: dict[str, dict[str, list[Path]]]) -> set[str]:
        """Days of CMRs whose call has no CDR in the batch (CUCM writes both when a call ends, so usually none)."""
        cmr = [str(p) for paths in staged.get("raw_cmr", {}).values() for p in paths]
        if not cmr:
            return set()
        cdr = [str(p) for paths in staged.get("raw_cdr", {}).values() for p in paths]
        con = _connection()
        try:
            if not cdr:
                return {
                    r[0]
                    for r in con.execute("SELECT DISTINCT CAST(day AS VARCHAR) FROM read_parquet(?)", [cmr]).fetchall()
                }
            return {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT CAST(m.day AS VARCHAR) FROM read_parquet($cmr) AS m "
                    "ANTI JOIN (SELECT DISTINCT globalCallID_callManagerId AS cm, globalCallID_callId AS id "
                    "FROM read_parquet($cdr)) AS c "
                    "ON c.cm IS NOT DISTINCT FROM m.globalCallID_callManagerId "
                    "AND c.id IS NOT DISTINCT FROM m.globalCallID_callId",
                    {"cmr": cmr, "cdr": cdr},
                ).fetchall()
            }
        finally:
            con.close()

    def _fast(self, kind: str, names: tuple[str, ...], group: list[SourceFile]) -> list[SourceFile]:
        """Stream a chunk of clean files; return those that must be read line by line."""
        if not group:
            return []
        chunk_id = self._name("c")
        out = self.stage / f"raw_{kind}" / chunk_id
        spans = []
        first = 0
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.scratch, prefix="cdr-batch-", suffix=".csv") as buf:
            for src in group:
                start = _records_start(src)
                count = src.data.count(b"\n", start)
                unterminated = start < len(src.data) and not src.data.endswith(b"\n")
                if unterminated:
                    count += 1  # the last line has no newline: the buffer gets one after it
                if count:
                    buf.write(memoryview(src.data)[start:])
                    if unterminated:
                        buf.write(b"\n")
                    spans.append((src.name, first, first + count - 1, src.skip, src.fallback_day))
                    first += count
            buf.flush()
            if not spans:
                return []
            ok = self._copy(kind, names, buf.name, spans, out)
        expected = {s[0]: s[2] - s[1] + 1 for s in spans}
        if ok:
            con = _connection()
            try:
                parts = [str(p) for p in out.glob("day=*/*.parquet")]
                got = (
                    dict(
                        con.execute("SELECT source_file, count(*) FROM read_parquet(?) GROUP BY 1", [parts]).fetchall()
                    )
                    if parts
                    else {}
                )
            finally:
                con.close()
            if got == expected:
                return []
        shutil.rmtree(out, ignore_errors=True)
        if len(group) == 1:
            return list(group)
        half = len(group) // 2
        return self._fast(kind, names, group[:half]) + self._fast(kind, names, group[half:])

    def _copy(self, kind: str, names: tuple[str, ...], path: str, spans: list[tuple], out: Path) -> bool:
        """One strict scan of a buffer into partitioned Parquet; False when DuckDB refused anything."""
        # one row per buffer line saying which file and line it is; joined to the scan by position
        counts = np.array([s[2] - s[1] + 1 for s in spans], dtype=np.int64)
        file_index = np.repeat(np.arange(len(spans), dtype=np.int32), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        header = np.repeat(np.array([s[3] for s in spans], dtype=np.int64), counts)
        epoch = date(1970, 1, 1)
        days = np.repeat(np.array([(s[4] - epoch).days for s in spans], dtype=np.int32), counts)
        lines = pa.table(
            {
                "source_file": pa.DictionaryArray.from_arrays(pa.array(file_index), pa.array([s[0] for s in spans])),
                "source_line": pa.array(np.arange(len(file_index), dtype=np.int64) - starts + 1 + header),
                "fallback_day": pa.array(days, pa.date32()),
            }
        )
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
        source = (
            f"read_csv({_sql_str(path)}, header = false, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {columns}, null_padding = false, strict_mode = true, "
            f"max_line_size = 1048576) POSITIONAL JOIN lines"
        )
        select = _strict_sql(kind, names, source, line="source_line").replace(
            "source_file,", "CAST(source_file AS VARCHAR) AS source_file,", 1
        )
        con = _connection()
        con.register("lines", lines)
        try:
            con.execute(_copy_sql(select, out, f"{self.batch_id}-{out.name}"))
            return True
        except duckdb.IOException:
            raise  # a full disk is not a bad line: splitting the batch would only fail again, slower
        except duckdb.Error:
            return False
        finally:
            con.close()

    def _slow(self, src: SourceFile, reject) -> None:
        """Read one file line by line; good rows are typed and staged, bad lines become rejects."""
        raw_table, line_rejects = _line_table(src)
        for number, reason, text in line_rejects:
            reject(src, number, reason, text)
        if raw_table.num_rows == 0:
            return
        con = _connection()
        con.register("lines", raw_table)
        try:
            con.execute(f"CREATE TEMP TABLE typed AS {_typed_sql(src.kind, src.names, 'lines')}")
            for (line,) in con.execute("SELECT source_line FROM typed WHERE NOT _ok ORDER BY 1").fetchall():
                text = _raw_line(src, line)
                reject(src, line, reasons(src.kind, src.names, next(csv.reader([text]), [])), text)
            out = self.stage / f"raw_{src.kind}" / self._name("s")
            con.execute(_copy_sql("SELECT * EXCLUDE (_ok) FROM typed WHERE _ok", out, f"{self.batch_id}-{out.name}"))
        finally:
            con.close()


def read_source(path: Path, name: str | None = None) -> SourceFile:
    """Read a file from disk and work out its layout."""
    data = path.read_bytes()
    src = sniff(name or path.name, data)
    src.path = path
    return src
