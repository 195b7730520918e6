"""A full disk while the ingest writes: a clear error naming what failed, nothing lost, the next run completes.

Writes are made to fail for real: the ingest runs as a child process whose files may not grow past
a size (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write fails with EFBIG as it would with ENOSPC),
or, where the tests may mount one, with the lake on a tiny tmpfs that fills up (ENOSPC).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid

import pytest

import warehouse
from bench import faults


@pytest.fixture(scope="module")
def day_files(tmp_path_factory):
    """The demo set written as one file per node and day (files of about a megabyte)."""
    out = tmp_path_factory.mktemp("bigfiles")
    cdr = faults.demo_files(out, legs=3000, days=1, file_minutes=1440)
    config = out / "ringledger.toml"
    expected, _ = faults.clean_run(tmp_path_factory.mktemp("clean-big"), config, [cdr])
    return config, cdr, expected


def test_an_archive_write_that_fails_names_the_file_and_the_next_run_completes(day_files, tmp_path):
    config, cdr, expected = day_files
    biggest = max(p.stat().st_size for p in cdr.iterdir() if p.is_file() and not p.name.startswith("."))
    home = tmp_path / "home"
    home.mkdir()
    failed = faults.ingest(home, config, [cdr], file_size_limit=biggest // 2)
    assert failed.returncode == 2
    message = failed.stderr.strip().splitlines()[-1]
    assert "ringledger ingest: error: ingest stopped while writing the archive copy of" in message
    assert str(home / "archive") in message
    assert "File too large (EFBIG)" in message
    assert "run the ingest again" in message
    assert all(p.exists() for p in cdr.iterdir())  # the inbox keeps every file

    done = faults.ingest(home, config, [cdr])
    assert done.returncode == 0, done.stderr
    assert faults.differences(expected, faults.snapshot(home / "lake")) == []
    warehouse.views.reset()


def test_a_batch_write_that_fails_names_the_batch_and_the_next_run_completes(tmp_path_factory):
    out = tmp_path_factory.mktemp("tenminutes")
    cdr = faults.demo_files(out, legs=3000, days=1, file_minutes=10)
    config = out / "ringledger.toml"
    expected, _ = faults.clean_run(tmp_path_factory.mktemp("clean-ten"), config, [cdr])
    home = tmp_path_factory.mktemp("home")
    # the ledger and the archive copies stay small; the parse buffer of a batch of all the files does not
    failed = faults.ingest(home, config, [cdr], file_size_limit=1 << 20)
    assert failed.returncode == 2, failed.stderr
    message = failed.stderr.strip().splitlines()[-1]
    # which write hits the limit first depends on sizes: the parse buffer, or the ledger's journal
    assert re.search(r"ingest stopped while (parsing|closing) batch b[0-9]+-[0-9a-f]+ ", message), message
    assert "File too large (EFBIG)" in message or "(sqlite3.OperationalError) disk I/O error" in message

    done = faults.ingest(home, config, [cdr])
    assert done.returncode == 0, done.stderr
    assert faults.differences(expected, faults.snapshot(home / "lake")) == []
    warehouse.views.reset()


def _mount_tmpfs(where, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", f"rl-{uuid.uuid4().hex[:6]}", str(where)])
    return done.returncode == 0


def test_a_full_lake_disk_stops_the_ingest_and_the_next_run_completes(demo_set, clean_ingest, tmp_path):
    config, cdr = demo_set
    expected, _ = clean_ingest
    home = tmp_path / "home"
    lake = home / "lake"
    if not _mount_tmpfs(lake, "300k"):
        pytest.skip("mounting a small tmpfs needs root (the RLIMIT_FSIZE tests above cover unprivileged runs)")
    try:
        failed = faults.ingest(home, config, [cdr])
        assert failed.returncode == 2, failed.stderr
        message = failed.stderr.strip().splitlines()[-1]
        assert "ingest stopped while" in message
        assert "No space left on device" in message
        # the administrator makes room; the next run finishes the interrupted one
        subprocess.run(["mount", "-o", "remount,size=64m", str(lake)], check=True)
        done = faults.ingest(home, config, [cdr])
        assert done.returncode == 0, done.stderr
        assert faults.differences(expected, faults.snapshot(lake)) == []
    finally:
        warehouse.views.reset()
        subprocess.run(["umount", "-l", str(lake)], check=False)
