"""Broken lines, files seen twice and runs that die half way: nothing good is lost, nothing doubles."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

import warehouse
from tests.conftest import SAMPLES
from warehouse import appdb
from warehouse.ingest import Ingestor
from warehouse.lake import LakeWriter

pytestmark = pytest.mark.app_databases

CDR = SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_02_202112131408_515359"
CMR = SAMPLES / "denikond__CUCM_CDR__cmr_StandAloneCluster_02_202112131408_515359"
DENIKOND = sorted(p for p in SAMPLES.iterdir() if p.name.startswith("denikond"))


def snapshot(settings):
    """Everything a user can see of the lake, order-independent."""
    con = warehouse.connect(settings)
    return {
        "cdr": sorted(con.execute("select pkid, source_file, source_line from cdr").fetchall()),
        "cmr": sorted(con.execute("select pkid from cmr").fetchall()),
        "calls": sorted(
            con.execute("select pkid, leg_role, extension, duration_s, coalesce(mos, -1) from calls").fetchall()
        ),
        "rejects": sorted(con.execute("select source_file, source_line, reason from rejects").fetchall()),
    }


def test_each_kind_of_broken_line_is_rejected_with_its_line_and_the_rest_loads(settings, tmp_path):
    lines = CDR.read_bytes().split(b"\n")
    good = lines[2]
    fields = good.split(b",")
    broken = [
        b",".join(fields[:40]),  # line 4: cut short
        good.replace(b'",', b",", 1),  # line 5: a closing quote lost: the field runs to the end
        good.replace(b'"1050"', b'"10\xff\xfe"') if b'"1050"' in good else good[:20] + b"\xff" + good[21:],
        b",".join([b"1", b"2", b"abc"] + fields[3:]),  # line 7: text in an integer field
        b",".join([b"2"] + fields[1:]),  # line 8: a CMR record type in a CDR file
    ]
    data = b"\n".join(lines[:3] + broken + lines[3:])
    path = tmp_path / "cdr_StandAloneCluster_02_202112131408_999999"
    path.write_bytes(data)
    report = Ingestor(settings).ingest([path])
    con = warehouse.connect(settings)
    rejects = con.execute("select source_line, reason, raw from rejects order by source_line").fetchall()
    assert [r[0] for r in rejects] == [4, 5, 6, 7, 8]
    assert "expected 129 fields, found 40" in rejects[0][1]
    assert "UTF-8" in rejects[2][1]
    assert "globalCallID_callId is not an integer: abc" in rejects[3][1]
    assert "cdrRecordType is 2 in a CDR file" in rejects[4][1]
    assert rejects[0][2] == broken[0].decode()
    good_rows = len([ln for ln in lines[2:] if ln.strip()])
    assert con.execute("select count(*) from cdr").fetchone()[0] == good_rows
    # the good lines keep their own line numbers in the file
    lines_in_lake = [r[0] for r in con.execute("select source_line from cdr order by source_line").fetchall()]
    assert lines_in_lake == [3] + list(range(9, 9 + good_rows - 1))
    assert report.rejects == 5


def test_empty_lines_inside_files_are_skipped_and_every_record_keeps_its_line(settings, tmp_path):
    lines = CDR.read_bytes().split(b"\n")
    header, records = lines[:2], [ln for ln in lines[2:] if ln.strip()]
    pkid_at = next(csv.reader([header[0].decode()])).index("pkid")
    pkids = [next(csv.reader([r.decode()]))[pkid_at] for r in records]
    assert len(records) >= 3
    # the files go through one batch scan with clean neighbours; an empty line must not shift them
    files = {
        "cdr_StandAloneCluster_02_202112131409_900001": b"\n".join(header + records[:2] + [b""] + records[2:]),
        "cdr_StandAloneCluster_02_202112131410_900002": b"\r\n".join(header + records[:1] + [b""] + records[1:]),
        "cdr_StandAloneCluster_02_202112131411_900003": b"\n".join(header + records),
        "cdr_StandAloneCluster_02_202112131412_900004": b"\n".join(header + records) + b"\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    report = Ingestor(settings).ingest([tmp_path / name for name in files])
    assert report.rejects == 0
    con = warehouse.connect(settings)
    landed = con.execute("select source_file, source_line, pkid from cdr order by 1, 2").fetchall()
    n = len(records)
    expected = {
        "cdr_StandAloneCluster_02_202112131409_900001": [3, 4, *range(6, n + 4)],
        "cdr_StandAloneCluster_02_202112131410_900002": [3, *range(5, n + 4)],
        "cdr_StandAloneCluster_02_202112131411_900003": list(range(3, n + 3)),
        "cdr_StandAloneCluster_02_202112131412_900004": list(range(3, n + 3)),
    }
    assert landed == [(name, line, pkid) for name, at in expected.items() for line, pkid in zip(at, pkids, strict=True)]


def test_a_file_seen_twice_changes_nothing(settings, tmp_path):
    Ingestor(settings).ingest([CDR, CMR])
    before = snapshot(settings)
    again = Ingestor(settings).ingest([CDR, CMR])
    renamed = tmp_path / "cdr_StandAloneCluster_02_202112131408_515360"
    shutil.copy(CDR, renamed)
    resent = Ingestor(settings).ingest([renamed])
    assert again.duplicates == 2
    assert resent.duplicates == 1
    assert snapshot(settings) == before


def test_files_written_as_underscore_names_wait(settings, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(CDR, inbox / ("_" + CDR.name))
    report = Ingestor(settings).ingest([inbox], move=True)
    assert report.files == 0
    assert (inbox / ("_" + CDR.name)).exists()


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def clean_run(tmp_path_factory):
    """The lake of the same files ingested without a fault, in a data home and app database of its own."""
    import os

    from warehouse.config import load_settings

    home = tmp_path_factory.mktemp("clean")
    os.environ["RINGLEDGER_HOME"] = str(home)
    # the test's own database (PostgreSQL) would already list the files as loaded
    url = os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    try:
        settings = load_settings()
        Ingestor(settings).ingest(DENIKOND)
        return snapshot(settings)
    finally:
        if url is not None:
            os.environ["RINGLEDGER_DATABASE_URL"] = url


@pytest.mark.parametrize(
    "crash_at",
    ["before_publish", "files_moved_manifest_not_written", "after_first_dataset", "before_ledger", "during_calls"],
)
def test_a_run_killed_between_writes_is_completed_by_the_next(settings, monkeypatch, crash_at, tmp_path_factory):
    home = settings.home
    expected = clean_run(tmp_path_factory)
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    warehouse.views.reset()

    published = []
    real_publish = LakeWriter.publish
    real_update = Ingestor._publish
    from warehouse import calls as calls_mod

    real_build = calls_mod.build_span

    def publish(self, dataset, add=None, replace=None):
        if crash_at == "before_publish" and dataset == "raw_cdr":
            raise Crash
        if crash_at == "files_moved_manifest_not_written" and dataset == "raw_cdr":
            # the files reach their partition folder, the process dies before the manifest names them
            base = self.lake.dataset_dir(dataset)
            for day, files in (add or {}).items():
                (base / f"day={day}").mkdir(parents=True, exist_ok=True)
                for f in files:
                    f.replace(base / f"day={day}" / f.name)
            raise Crash
        result = real_publish(self, dataset, add=add, replace=replace)
        published.append(dataset)
        if crash_at == "after_first_dataset" and published == ["raw_cdr"]:
            raise Crash
        return result

    def ledger(self, writer, batch_id, stats):
        if crash_at == "before_ledger":
            for dataset, days in stats["staged"].items():
                real_publish(writer, dataset, add={d: [Path(p) for p in ps] for d, ps in days.items()})
            raise Crash
        return real_update(self, writer, batch_id, stats)

    def build(writer, settings, days, con):
        if crash_at == "during_calls":
            raise Crash
        return real_build(writer, settings, days, con)

    # patched for the crashing run only (the fixture's own settings, such as the database, stay)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LakeWriter, "publish", publish)
        patch.setattr(Ingestor, "_publish", ledger)
        patch.setattr(calls_mod, "build_span", build)
        with pytest.raises(Crash):
            Ingestor(settings).ingest(DENIKOND)
    appdb.dispose_all()
    warehouse.views.reset()
    Ingestor(settings).ingest(DENIKOND)
    assert snapshot(settings) == expected
