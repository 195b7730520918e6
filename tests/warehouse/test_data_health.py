"""Data health: the ledger, rejected lines, the CDR feed per node, unknown extensions, unlisted devices, runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import warehouse
from tests.admin_home import (
    BROKEN_LINE,
    MILANO_EXTENSION,
    UNKNOWN_EXTENSION,
    UNLISTED_GATEWAY,
    admin_home,  # noqa: F401
    admin_template,  # noqa: F401
)
from warehouse import accounts, appdb, data_health
from warehouse.config import Device, load_settings
from warehouse.directory import unknown_extensions
from warehouse.lake import Lake
from warehouse.rating import rerate

pytestmark = pytest.mark.app_databases


@pytest.fixture
def health(admin_home):  # noqa: F811
    home, facts = admin_home
    settings = load_settings()
    return settings, appdb.open_db(settings), facts


def test_the_ledger_lists_every_file_newest_first_with_filters_and_pages(health):
    settings, engine, facts = health
    everything = data_health.ledger(engine, limit=1000)
    assert everything.total == len(everything.items) > 40
    assert everything.items[0].name == facts["broken_file"]  # received last
    assert everything.items[0].rejects == 1
    assert everything.items[0].status == "loaded"

    with_rejects = data_health.ledger(engine, with_rejects=True)
    assert [e.name for e in with_rejects.items] == [facts["broken_file"]]
    assert data_health.ledger(engine, search="TESTCLUSTER").total == 1
    cmr = data_health.ledger(engine, kind="cmr", limit=5)
    assert cmr.total > 5
    assert len(cmr.items) == 5
    assert {e.kind for e in cmr.items} == {"cmr"}
    second = data_health.ledger(engine, kind="cmr", limit=5, offset=5)
    assert not {e.id for e in second.items} & {e.id for e in cmr.items}
    assert data_health.ledger(engine, status="failed").total == 0
    with pytest.raises(ValueError, match="status"):
        data_health.ledger(engine, status="lost")


def test_a_rejected_line_is_found_and_opened_with_its_whole_text(health):
    settings, engine, facts = health
    found = data_health.rejects(settings, search="expected")
    assert found.total == 1
    line = found.items[0]
    assert (line.source_file, line.source_line) == (facts["broken_file"], BROKEN_LINE)
    assert "found 100" in line.reason
    assert len(line.raw) <= data_health.PREVIEW_CHARS

    opened = data_health.reject(settings, line.source_file, line.source_line)
    raw = (Path(os.environ["RINGLEDGER_HOME"]) / "archive").rglob(facts["broken_file"])
    assert opened.raw == next(raw).read_text().split("\n")[BROKEN_LINE - 1]
    assert len(opened.raw) > data_health.PREVIEW_CHARS
    assert data_health.rejects(settings, search="no such text anywhere").total == 0
    assert data_health.reject(settings, line.source_file, 1) is None


def test_each_node_shows_its_last_file_and_record_and_is_silent_only_after_working_time(health):
    settings, engine, facts = health
    feeds = {(f.cluster, f.node): f for f in data_health.node_feeds(settings, engine)}
    assert set(feeds) == {("RavelloCluster", "01"), ("RavelloCluster", "02"), ("TestCluster", "01")}
    ravello = feeds[("RavelloCluster", "01")]
    assert ravello.files > 10
    assert not ravello.silent
    test_node = feeds[("TestCluster", "01")]
    assert test_node.last_record_at is not None
    assert abs(test_node.last_record_at - (facts["now"] - timedelta(hours=2))) < timedelta(minutes=5)

    received = ravello.last_received_at
    a_week_later = data_health.node_feeds(settings, engine, now=received + timedelta(days=7))
    assert all(f.silent for f in a_week_later)


def test_working_minutes_count_only_working_days_and_hours_in_the_company_zone(health):
    settings, _engine, _facts = health  # company zone Europe/Rome, 08:00-18:00 Monday to Friday
    friday_evening = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 17:00 in Rome
    monday_morning = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 09:30 in Rome
    assert data_health.working_minutes(settings, friday_evening, monday_morning) == 60 + 90
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert data_health.working_minutes(settings, saturday, saturday + timedelta(hours=5)) == 0


def test_an_unlisted_gateway_is_listed_until_added_and_reprocessing_labels_its_calls(health):
    settings, engine, facts = health
    found = {d.device: d for d in data_health.unlisted_devices(settings)}
    assert set(found) == {UNLISTED_GATEWAY}
    assert found[UNLISTED_GATEWAY].outgoing == 1

    data_health.add_device(
        settings, engine, "admin", Device(device=UNLISTED_GATEWAY, label="Old Milano line", site="Milano")
    )
    settings = load_settings()
    assert data_health.unlisted_devices(settings) == []
    day = (facts["now"] - timedelta(hours=2)).date()
    rerate(settings, day, day)
    con = warehouse.connect(settings)
    labels = con.execute("select gateway from calls where gateway_device = ?", [UNLISTED_GATEWAY]).fetchall()
    assert labels == [("Old Milano line",)]


def test_an_unknown_extension_is_gone_once_someone_has_it(health):
    settings, engine, _facts = health
    assert UNKNOWN_EXTENSION in {u.extension for u in unknown_extensions(settings)}
    accounts.assign_extension(engine, "admin", "aadams", UNKNOWN_EXTENSION, lake=Lake(settings.lake_dir))
    assert UNKNOWN_EXTENSION not in {u.extension for u in unknown_extensions(settings)}
    assert MILANO_EXTENSION not in {u.extension for u in unknown_extensions(settings)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pipelines_that_do_not_answer_are_reported_plainly(health, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_DAGSTER_PORT", str(_free_port()))
    status = data_health.pipeline_status(load_settings())
    assert not status.reachable
    assert "refused or the address cannot be reached" in status.error
    assert status.runs == []
    assert status.failures == []


@pytest.mark.slow
def test_the_last_runs_and_failures_come_from_dagsters_web_server(tmp_path, monkeypatch):
    import dagster as dg
    import yaml

    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        yaml.safe_dump({"telemetry": {"enabled": False}, "storage": {"sqlite": {"base_dir": str(dagster_home)}}})
    )
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))

    @dg.asset
    def fine() -> None:
        """An asset that works."""

    @dg.asset
    def broken() -> None:
        """An asset that fails."""
        raise RuntimeError("the CDR share is gone")

    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([fine], instance=instance).success
        assert not dg.materialize([broken], instance=instance, raise_on_error=False).success

    port = _free_port()
    env = dict(os.environ, DAGSTER_HOME=str(dagster_home), RINGLEDGER_HOME=str(tmp_path / "home"))
    web = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-m", "pipelines.definitions", "-h", "127.0.0.1"]
        + ["-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert web.poll() is None, "the web server stopped"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        monkeypatch.setenv("RINGLEDGER_DAGSTER_PORT", str(port))
        status = data_health.pipeline_status(load_settings(home=tmp_path / "home"), timeout=30)
    finally:
        web.terminate()
        web.wait(timeout=60)
    assert status.reachable, status.error
    assert [r.status for r in status.runs] == ["FAILURE", "SUCCESS"]
    assert [r.status for r in status.failures] == ["FAILURE"]
    failed = status.failures[0]
    assert failed.url == f"http://127.0.0.1:{port}/runs/{failed.run_id}"
    assert failed.started_at is not None
    assert failed.ended_at >= failed.started_at
