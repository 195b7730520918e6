"""Files that arrive badly: still growing, cut short (and completed later), in a broken encoding."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import warehouse
from tests.conftest import SAMPLES
from warehouse.ingest import Ingestor

CDR = SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_02_202112131408_515359"
NAME = "cdr_StandAloneCluster_02_202112131408_515359"


def lake_rows(settings):
    con = warehouse.connect(settings)
    return {
        "cdr": sorted(con.execute("select source_file, source_line, pkid from cdr").fetchall()),
        "rejects": sorted(con.execute("select source_file, source_line, reason from rejects").fetchall()),
        "calls": con.execute("select count(*) from calls").fetchone()[0],
    }


class GrowingFile(io.BufferedReader):
    """A file another process appends to while the ingest reads it."""

    def read(self, *args):
        data = super().read(*args)
        with Path(self.name).open("ab") as fh:
            fh.write(b"\n")
        return data


def test_a_file_that_grows_while_read_is_left_for_the_next_run_and_then_loaded_whole(settings, tmp_path, monkeypatch):
    whole = CDR.read_bytes()
    path = tmp_path / NAME
    path.write_bytes(whole[: len(whole) // 2])
    real_open = Path.open

    def open_growing(self, mode="r", *args, **kwargs):
        if self == path and mode == "rb":
            return GrowingFile(io.FileIO(str(self), "rb"))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_growing)
    report = Ingestor(settings).ingest([path])
    monkeypatch.undo()
    assert report.incomplete == 1
    assert report.loaded == 0
    assert lake_rows(settings)["cdr"] == []

    path.write_bytes(whole)  # the writer has finished
    report = Ingestor(settings).ingest([path])
    assert report.loaded == 1
    assert len(lake_rows(settings)["cdr"]) == len([ln for ln in whole.split(b"\n")[2:] if ln.strip()])


def test_a_file_younger_than_the_settle_time_waits(settings, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(CDR.read_bytes())
    assert Ingestor(settings).ingest([path], settle_seconds=3600).incomplete == 1
    old = path.stat().st_mtime - 7200
    os.utime(path, (old, old))
    assert Ingestor(settings).ingest([path], settle_seconds=3600).loaded == 1


@pytest.fixture
def cut(tmp_path):
    """The sample cut in the middle of its last line, as an interrupted transfer leaves it."""
    whole = CDR.read_bytes()
    end = whole.rstrip(b"\n").rfind(b"\n") + 40
    (tmp_path / "first").mkdir()
    path = tmp_path / "first" / NAME
    path.write_bytes(whole[:end])
    return path, whole, whole[:end].count(b"\n") + 1


def test_a_cut_file_rejects_its_last_line_and_loads_the_rest(settings, cut):
    path, whole, last = cut
    Ingestor(settings).ingest([path])
    rows = lake_rows(settings)
    assert [(r[0], r[1]) for r in rows["rejects"]] == [(NAME, last)]
    assert rows["rejects"][0][2] == "malformed CSV: unexpected end of data"  # cut inside a quoted field
    assert len(rows["cdr"]) == last - 3  # two header lines, the cut line


def test_the_rest_of_a_cut_file_arriving_later_loads_each_line_once(settings, cut, tmp_path):
    path, whole, last = cut
    Ingestor(settings).ingest([path])
    (tmp_path / "again").mkdir()
    complete = tmp_path / "again" / NAME
    complete.write_bytes(whole)
    messages = []
    report = Ingestor(settings, progress=lambda e, d: messages.append((e, d))).ingest([complete])
    assert report.loaded == 1
    assert ("continued", {"file": NAME, "from_line": last}) in messages
    rows = lake_rows(settings)
    lines = [r[1] for r in rows["cdr"]]
    assert sorted(lines) == list(range(3, whole.count(b"\n") + 1))  # every line once, the cut one too
    assert rows["rejects"] == []  # the cut line's reject is withdrawn

    # the same as if the whole file had come at once
    clean_home_rows = lake_rows_of_fresh_ingest(tmp_path, complete)
    assert rows == clean_home_rows

    # the shorter version sent once more adds nothing
    assert Ingestor(settings).ingest([path]).duplicates == 1
    shorter = tmp_path / "shorter"
    shorter.mkdir()
    (shorter / NAME).write_bytes(whole[: len(whole) // 2])
    Ingestor(settings).ingest([shorter / NAME])
    assert lake_rows(settings) == clean_home_rows


def lake_rows_of_fresh_ingest(tmp_path, file):
    from warehouse.config import load_settings

    home = tmp_path / "fresh"
    home.mkdir()
    fresh = load_settings(home=home)
    Ingestor(fresh).ingest([file])
    rows = lake_rows(fresh)
    return rows


def test_lines_in_a_broken_encoding_are_rejected_with_the_reason(settings, tmp_path):
    lines = CDR.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'""', b'"Caf\xe9"', 1)  # Latin-1, not UTF-8
    lines[4] = lines[4][:30] + b"\xff\xfe\x00" + lines[4][30:]
    path = tmp_path / NAME
    path.write_bytes(b"\n".join(lines))
    Ingestor(settings).ingest([path])
    rejects = warehouse.connect(settings).execute("select source_line, reason, raw from rejects order by 1").fetchall()
    assert [(r[0], r[1].split(" (")[0]) for r in rejects] == [(4, "not valid UTF-8"), (5, "not valid UTF-8")]
    assert "Caf\ufffd" in rejects[0][2]  # the raw text is kept, the bad byte shown as a replacement character
    assert (
        warehouse.connect(settings).execute("select count(*) from cdr").fetchone()[0]
        == len([ln for ln in lines[2:] if ln.strip()]) - 2
    )


def test_a_whole_file_in_utf16_is_rejected_line_by_line_with_the_reason(settings, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(CDR.read_text(encoding="utf-8").encode("utf-16"))
    report = Ingestor(settings).ingest([path])
    reasons = warehouse.connect(settings).execute("select distinct reason from rejects").fetchall()
    assert report.rejects > 0
    assert len(reasons) == 1
    assert "matches no known layout" in reasons[0][0]
