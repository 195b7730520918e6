"""Hostile input under hypothesis: the CDR/CMR parser and every tariff importer never crash.

Every line of a mangled CUCM file ends up loaded or in rejects with a reason, never both, never
neither; a mangled tariff file reads, or fails with a TariffError naming the file, and for a bad
row its line and field. `make test` runs a few dozen examples each; `python -m bench.soak` sets
RINGLEDGER_FUZZ_EXAMPLES to run thousands.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffs.cgrates import read_cgrates
from tariffs.deck import DeckOptions, read_deck
from tariffs.model import TariffError
from tariffs.own import read_plan
from tests.conftest import SAMPLES, SHARED
from warehouse.cucm import Parser, sniff

EXAMPLES = int(os.environ.get("RINGLEDGER_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,  # make test: the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CDR = (SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_02_202112131408_515359").read_bytes()
CMR = (SAMPLES / "denikond__CUCM_CDR__cmr_StandAloneCluster_02_202112131408_515359").read_bytes()
OWN = Path(__file__).resolve().parents[2] / "tariffs" / "demo" / "it-carrier"
CGRATES = SHARED / "samples" / "tariffs" / "cgrates_tutorial"

# --- mutations of one line --------------------------------------------------------------------------------

junk = st.binary(min_size=0, max_size=12) | st.sampled_from(
    [b'"', b",", b'""', b"\r", b"\xff", b"\xc3", b"-1", b"99999999999999999999", b"1e5", b"\x00", b" ", b"\t"]
)


@st.composite
def mangled_line(draw, line: bytes) -> bytes:
    """A line cut, with bytes inserted, replaced or deleted, a field swapped, or pure noise."""
    kind = draw(st.sampled_from(["cut", "insert", "replace", "delete", "field", "noise", "keep"]))
    n = len(line)
    at = draw(st.integers(0, max(n - 1, 0)))
    if kind == "cut":
        return line[:at]
    if kind == "insert":
        return line[:at] + draw(junk) + line[at:]
    if kind == "replace":
        return line[:at] + draw(junk) + line[at + 1 :]
    if kind == "delete":
        return line[:at] + line[at + draw(st.integers(1, 20)) :]
    if kind == "field":
        fields = line.split(b",")
        i = draw(st.integers(0, len(fields) - 1))
        fields[i] = draw(junk)
        return b",".join(fields)
    if kind == "noise":
        return draw(st.binary(max_size=300))
    return line


@st.composite
def mangled_file(draw, original: bytes) -> bytes:
    lines = original.split(b"\n")
    count = draw(st.integers(1, 6))
    for _ in range(count):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(mangled_line(lines[i]))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.binary(max_size=80)))
    sep = draw(st.sampled_from([b"\n", b"\r\n"]))
    return sep.join(lines)


def expected_lines(src) -> set[int]:
    skip = 0 if src.error else src.skip
    return {
        n
        for n, raw in enumerate(src.data.split(b"\n"), start=1)
        if n > skip and raw.rstrip(b"\r").strip(b" \t\r\n\x0b\x0c")
    }


def check_every_line_accounted_for(name: str, data: bytes) -> None:
    src = sniff(name, data)
    with tempfile.TemporaryDirectory() as tmp:
        parsed = Parser(Path(tmp) / "stage", scratch=Path(tmp) / "scratch").parse([src], "fuzz")
        loaded = [
            n
            for days in parsed.staged.values()
            for paths in days.values()
            for p in paths
            for n in pq.read_table(p, columns=["source_line"], partitioning=None).column(0).to_pylist()
        ]
    rejected = parsed.rejects.column("source_line").to_pylist()
    reasons = parsed.rejects.column("reason").to_pylist()
    assert all(r and r.strip() for r in reasons)
    assert len(loaded) == len(set(loaded))
    assert not set(loaded) & set(rejected)
    if src.error:
        assert not loaded
    assert set(loaded) | set(rejected) == expected_lines(src)


@FUZZ
@given(mangled_file(CDR))
def test_a_mangled_cdr_file_loads_or_rejects_every_line(data):
    check_every_line_accounted_for("cdr_StandAloneCluster_02_202112131408_1", data)


@FUZZ
@given(mangled_file(CMR))
def test_a_mangled_cmr_file_loads_or_rejects_every_line(data):
    check_every_line_accounted_for("cmr_StandAloneCluster_02_202112131408_1", data)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_under_a_cdr_name_never_crash_the_parser(data):
    check_every_line_accounted_for("cdr_StandAloneCluster_02_202112131408_2", data)


# --- tariff importers --------------------------------------------------------------------------------------


def check_tariff_error(exc: TariffError, file: Path, row_level: bool) -> None:
    assert str(exc).startswith(str(file))
    assert exc.problem
    if row_level:
        assert exc.line is not None, str(exc)
        assert exc.field, str(exc)


def mangled_rows(header: bytes, body: bytes):
    return mangled_file(body).map(lambda data: header + b"\n" + data)


def _split(path: Path) -> tuple[bytes, bytes]:
    header, _, body = path.read_bytes().partition(b"\n")
    return header, body


OWN_HEADER, OWN_BODY = _split(OWN / "rates-2025.csv")


@FUZZ
@given(mangled_rows(OWN_HEADER, OWN_BODY))
def test_a_mangled_own_rates_file_reads_or_names_file_line_and_field(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "it-carrier"
        shutil.copytree(OWN, folder)
        (folder / "rates-2025.csv").write_bytes(data)
        try:
            read_plan(folder)
        except TariffError as exc:
            row_level = exc.file.endswith(".csv") and exc.line is not None and exc.line > 1
            check_tariff_error(exc, folder / "rates-2025.csv" if exc.file.endswith(".csv") else folder, row_level)


DECK = b"prefix,destination,rate,connect fee,effective date\n" + b"\n".join(
    f"{p},Dest {p},0.{p % 97:04d},0.01,2025-0{1 + p % 9}-01".encode() for p in range(3900, 3960)
)
DECK_HEADER, _, DECK_BODY = DECK.partition(b"\n")


@FUZZ
@given(mangled_rows(DECK_HEADER, DECK_BODY))
def test_a_mangled_deck_reads_or_names_file_line_and_field(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deck.csv"
        path.write_bytes(data)
        try:
            read_deck(path, DeckOptions(name="deck", currency="EUR"))
        except TariffError as exc:
            check_tariff_error(exc, path, exc.line is not None and exc.line > 1)


CG_HEADER, CG_BODY = _split(CGRATES / "Rates.csv")
CG_DEST_HEADER, CG_DEST_BODY = _split(CGRATES / "Destinations.csv")


@FUZZ
@given(st.sampled_from(["Rates.csv", "Destinations.csv"]), st.data())
def test_a_mangled_cgrates_folder_reads_or_names_file_line_and_field(which, data):
    header, body = (CG_HEADER, CG_BODY) if which == "Rates.csv" else (CG_DEST_HEADER, CG_DEST_BODY)
    content = data.draw(mangled_rows(header, body))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cg"
        shutil.copytree(CGRATES, folder)
        (folder / which).write_bytes(content)
        try:
            read_cgrates(folder, currency="EUR")
        except TariffError as exc:
            check_tariff_error(exc, folder, exc.line is not None and exc.line > 1)
