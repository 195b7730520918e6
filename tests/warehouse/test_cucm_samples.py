"""Every real CUCM sample file loads completely, typed as the reference says."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import warehouse
from tests.conftest import SAMPLES
from warehouse.ingest import Ingestor

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.name != "SOURCES.md")


def data_lines(path: Path) -> int:
    """Records in a sample: its lines minus the two header lines (none for a headerless extract)."""
    lines = [ln for ln in path.read_text().split("\n") if ln.strip()]
    return len(lines) - (2 if lines[0].startswith(('"cdrRecordType"', "cdrRecordType")) else 0)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    import os

    from warehouse.config import load_settings

    home = tmp_path_factory.mktemp("samples-home")
    old = os.environ.get("RINGLEDGER_HOME")
    os.environ["RINGLEDGER_HOME"] = str(home)
    try:
        settings = load_settings()
        report = Ingestor(settings).ingest([SAMPLES])
        yield report, warehouse.connect(settings)
    finally:
        if old is None:
            os.environ.pop("RINGLEDGER_HOME", None)
        else:
            os.environ["RINGLEDGER_HOME"] = old


def test_every_sample_row_lands_and_nothing_is_rejected(loaded):
    report, con = loaded
    assert report.loaded == len(SAMPLE_FILES)
    assert report.not_cdr == [str(SAMPLES / "SOURCES.md")]
    assert con.execute("select count(*) from rejects").fetchone()[0] == 0
    for path in SAMPLE_FILES:
        view = "cmr" if "cmr" in path.name.split("__")[-1] else "cdr"
        got = con.execute(f"select count(*) from {view} where source_file = ?", [path.name]).fetchone()[0]
        assert got == data_lines(path), path.name


def test_source_lines_point_at_the_line_in_the_file(loaded):
    _, con = loaded
    path = SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_02_202112131408_515359"
    lines = path.read_text().split("\n")
    for pkid, line in con.execute("select pkid, source_line from cdr where source_file = ?", [path.name]).fetchall():
        assert f'"{pkid}"' in lines[line - 1]


def test_ip_integers_decode_little_endian_to_dotted_text(loaded):
    _, con = loaded
    rows = con.execute(
        "select origIpAddr, origIpv4v6Addr from cdr where source_file like 'gefot%' and origIpAddr is not null "
        "and origIpv4v6Addr like '%.%'"  # an IPv6 signalling address has no IPv4 integer to compare
    ).fetchall()
    assert rows
    assert all(ip == text for ip, text in rows)
    siete = con.execute(
        "select origIpAddr from cdr where source_file = 'sieteunoseis__cisco-cucm-cdr__cdr.txt' order by source_line"
    ).fetchall()
    assert ("10.248.64.14",) in siete


def test_cause_and_time_fields_are_bigint_with_values_above_int32(loaded):
    _, con = loaded
    typ = dict(con.execute("select column_name, column_type from (describe cdr)").fetchall())
    assert typ["destCause_value"] == "BIGINT"
    assert typ["dateTimeOrigination"] == "BIGINT"
    assert typ["origIpAddr"] == "VARCHAR"
    causes = {r[0] for r in con.execute("select destCause_value from cdr").fetchall()}
    assert 1459617833 in causes  # SIP 503 in the CUCM 14 sample
    first = con.execute(
        "select dateTimeOrigination, to_timestamp(dateTimeOrigination) from cdr "
        "where source_file = 'sieteunoseis__cisco-cucm-cdr__cdr.txt' and source_line = 3"
    ).fetchone()
    assert first[0] == 1744993930


def test_cisco_names_work_case_insensitively(loaded):
    _, con = loaded
    got = con.execute("select origipaddr, DESTCAUSE_VALUE from cdr limit 1").fetchall()
    assert len(got) == 1


def test_empty_cmr_integers_are_null_and_vq_metrics_are_kept(loaded):
    _, con = loaded
    row = con.execute(
        "select videoDuration, varVQMetrics from cmr where source_file like 'denikond%' and varVQMetrics like 'MLQK=%' "
        "limit 1"
    ).fetchone()
    assert row[0] is None
    assert row[1].startswith("MLQK=")


def test_cmr_session_ids_and_headset_fields_are_mapped_by_name(loaded):
    _, con = loaded
    # in the 46-column layout the headset fields sit where the 48-column layout has the session ids
    rows = con.execute(
        "select source_file, localSessionID, headsetSN from cmr where source_file like 'siete%' or "
        "source_file like 'denikond%'"
    ).fetchall()
    deni = [r for r in rows if r[0].startswith("denikond")]
    assert deni
    assert all(r[1] is None for r in deni)
    with SAMPLES.joinpath("sieteunoseis__cisco-cucm-cdr__cmr.txt").open() as fh:
        reader = csv.reader(fh)
        header = next(reader)
        next(reader)
        first = next(reader)
    expected = first[header.index("localSessionID")] or None
    siete = [r for r in rows if r[0].startswith("siete")]
    assert expected in {r[1] for r in siete}
