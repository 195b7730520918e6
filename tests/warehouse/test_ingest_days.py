"""Which days a batch rebuilds: a call's CMR may come after its CDR, even after midnight."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import warehouse
from tests.cdrs import Leg, cdr_file, utc
from warehouse.cucm_format import CMR_FIELDS
from warehouse.ingest import Ingestor

pytestmark = pytest.mark.app_databases


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


def _with_call_id(path: Path, call_id: int, leg: int) -> None:
    """Give the legs of a CDR file another call's ids, as CUCM does when it counts call ids again."""
    lines = path.read_text().splitlines()
    names = next(csv.reader([lines[0]]))
    ids = {"globalCallID_callId": call_id, "origLegCallIdentifier": leg, "destLegIdentifier": leg + 1}
    rows = []
    for line in lines[2:]:
        values = next(csv.reader([line]))
        rows.append(",".join(str(ids[n]) if n in ids else f'"{v}"' for n, v in zip(names, values, strict=True)))
    path.write_text("\n".join(lines[:2] + rows) + "\n")


def test_a_call_id_counted_again_on_a_later_day_is_another_call(settings, tmp_path):
    # CUCM numbers calls from a counter that starts again when a node restarts: the same ids can come
    # back on another day. Built in one run, the two days must not mix their calls.
    answered = cdr_file(tmp_path / "a", [Leg("2001", "0441234567", utc(2024, 5, 6, 9, 0))])
    call_id, leg = _call_ids(answered)
    cmr = cmr_file(tmp_path / "a", call_id, leg, int(utc(2024, 5, 6, 9, 1).timestamp()), "4.2",
                   "cmr_TestCluster_01_202405060901_1")  # fmt: skip
    unanswered = cdr_file(tmp_path / "b", [Leg("2002", "0441234568", utc(2024, 5, 7, 9, 0), answered=False)])
    _with_call_id(unanswered, call_id, leg)
    report = Ingestor(settings).ingest([answered, cmr, unanswered])
    assert report.rebuilt_days == ["2024-05-06", "2024-05-07"]
    con = warehouse.connect(settings)
    rows = con.execute(
        "select extension, call_id, answered, missed, mos from calls where leg_role = 'caller' order by started_at"
    ).fetchall()
    assert rows[0][1] == rows[1][1]  # the same ids ...
    assert [r[0] for r in rows] == ["2001", "2002"]
    assert rows[0][2:] == (True, False, 4.2)
    assert rows[1][2:] == (False, True, None)  # ... but the later call was missed, and has no quality record
