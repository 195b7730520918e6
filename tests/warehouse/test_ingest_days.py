"""Which days a batch rebuilds: a call's CMR may come after its CDR, even after midnight."""

from __future__ import annotations

import csv
from pathlib import Path

import warehouse
from tests.cdrs import Leg, cdr_file, utc
from warehouse.cucm_format import CMR_FIELDS
from warehouse.ingest import Ingestor


def cmr_file(directory: Path, call_id: int, leg: int, stamp: int, mos: str, name: str) -> Path:
    """A CMR file with one record for a call leg, stamped at `stamp` (epoch seconds)."""
    values = {
        "cdrRecordType": 2,
        "globalCallID_callManagerId": 1,
        "globalCallID_callId": call_id,
        "callIdentifier": leg,
        "dateTimeStamp": stamp,
        "numberPacketsReceived": 1000,
        "numberPacketsLost": 10,
        "jitter": 4,
        "latency": 20,
        "varVQMetrics": f"MLQK={mos};MLQKav={mos};CCR=0.0",
        "globalCallId_ClusterID": "TestCluster",
    }
    header = ",".join(f'"{n}"' for n, _ in CMR_FIELDS)
    types = ",".join(f'"{t}"' for _, t in CMR_FIELDS)
    row = ",".join((str(values.get(n, 0)) if t == "INTEGER" else f'"{values.get(n, "")}"') for n, t in CMR_FIELDS)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"{header}\n{types}\n{row}\n")
    return path


def _call_ids(path: Path) -> tuple[int, int]:
    """globalCallID_callId and origLegCallIdentifier of the first leg of a CDR file."""
    header, _types, first = path.read_text().splitlines()[:3]
    fields = dict(zip(next(csv.reader([header])), next(csv.reader([first])), strict=True))
    return int(fields["globalCallID_callId"]), int(fields["origLegCallIdentifier"])


def test_a_late_cmr_of_a_call_that_crossed_midnight_rebuilds_the_day_the_call_started(settings, tmp_path):
    # a call from 23:50 to 00:20: its CDR is filed under the day it started
    cdr = cdr_file(tmp_path / "a", [Leg("2001", "0441234567", utc(2024, 5, 6, 23, 50), seconds=1800)])
    Ingestor(settings).ingest([cdr])
    call_id, leg = _call_ids(cdr)
    # its CMR arrives in a later batch, stamped after midnight
    cmr = cmr_file(tmp_path / "b", call_id, leg, int(utc(2024, 5, 7, 0, 20).timestamp()), "3.9",
                   "cmr_TestCluster_01_202405070020_1")  # fmt: skip
    report = Ingestor(settings).ingest([cmr])
    assert "2024-05-06" in report.rebuilt_days
    con = warehouse.connect(settings)
    assert con.execute("select mos from calls where source_file = ?", [cdr.name]).fetchall() == [(3.9,)]


def test_a_cmr_that_comes_with_its_cdr_rebuilds_only_the_days_of_the_batch(settings, tmp_path):
    Ingestor(settings).ingest([cdr_file(tmp_path / "a", [Leg("2001", "0441234567", utc(2024, 5, 6, 9, 0))])])
    # CUCM writes a call's CDR and CMR when it ends: they come in the same minute's files
    cdr = cdr_file(tmp_path / "b", [Leg("2001", "0441234568", utc(2024, 5, 7, 10, 0), seconds=120)])
    call_id, leg = _call_ids(cdr)
    cmr = cmr_file(tmp_path / "b", call_id, leg, int(utc(2024, 5, 7, 10, 2).timestamp()), "4.1",
                   "cmr_TestCluster_02_202405071002_7")  # fmt: skip
    report = Ingestor(settings).ingest([cdr, cmr])
    assert report.rebuilt_days == ["2024-05-07"]
    con = warehouse.connect(settings)
    assert con.execute("select mos from calls where source_file = ?", [cdr.name]).fetchall() == [(4.1,)]
