"""Retention: old data goes when its age is reached, old outside numbers become keyed hashes, all audited."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

import warehouse
from ringledger.cli import main
from tests.cdrs import Leg, cdr_file
from warehouse import appdb, retention
from warehouse.audit import audit, query_audit
from warehouse.config import ConfigError, load_settings
from warehouse.ingest import Ingestor
from warehouse.lake import Lake

pytestmark = pytest.mark.app_databases

SITE = """
[[sites]]
name = "Zurich"
country = "CH"
time_zone = "Europe/Zurich"
internal_ranges = ["2000-2999"]

[[devices]]
device = "GW-*"
kind = "gateway"
label = "Zurich PSTN"
site = "Zurich"
"""
RETENTION = """
[retention]
archive_days = 30
raw_days = 60
rejects_days = 30
calls_days = 60
audit_days = 365
outbox_days = 30
anonymise_after_days = 45
"""
OUTSIDE = "0041446681801"


def at_noon(days_ago: int) -> datetime:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def legs(days_ago: int) -> list[Leg]:
    start = at_noon(days_ago)
    return [
        Leg("2001", OUTSIDE, start, orig_device="SEP000000000001", dest_device="GW-ZRH-1"),
        Leg(
            f"04455512{days_ago:02d}",
            "2002",
            start + timedelta(minutes=5),
            orig_device="GW-ZRH-1",
            dest_device="SEP000000000002",
        ),
        Leg("2001", "2002", start + timedelta(minutes=10), dest_device="SEP000000000002"),
    ]


@pytest.fixture
def aged(home, tmp_path):
    """A data home with calls 100, 50 and 2 days old, a rejected line, old audit entries and old mail."""
    (home / "ringledger.toml").write_text(SITE)
    settings = load_settings()
    files = [cdr_file(tmp_path / "in", legs(n)) for n in (100, 50, 2)]
    with files[1].open("a") as fh:
        fh.write("1,2,not a record\n")
    Ingestor(settings).ingest(files)
    engine = appdb.open_db(settings)
    audit(engine, "someone", "login", "someone", at=datetime.now(UTC) - timedelta(days=400))
    audit(engine, "someone", "login", "someone", at=datetime.now(UTC) - timedelta(days=3))
    settings.outbox_dir.mkdir(parents=True)
    old_mail = settings.outbox_dir / "20200101-000000-x.eml"
    old_mail.write_text("Subject: old\n\nold")
    stamp = (datetime.now(UTC) - timedelta(days=40)).timestamp()
    os.utime(old_mail, (stamp, stamp))
    (settings.outbox_dir / "new.eml").write_text("Subject: new\n\nnew")
    return settings


def day_of(days_ago: int) -> str:
    return at_noon(days_ago).date().isoformat()


def calls_by_day(settings) -> dict[str, list[tuple]]:
    con = warehouse.connect(settings)
    rows = con.execute(
        "select cast(day as varchar), direction, other_number, e164, nation, destination_type, cost, duration_s "
        "from calls order by all"
    ).fetchall()
    out: dict[str, list[tuple]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def test_nothing_is_removed_unless_retention_is_configured(aged, capsys):
    before = calls_by_day(aged)
    assert main(["retention", "run"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    result = retention.run(aged, appdb.open_db(aged))
    assert not result.changed
    assert calls_by_day(aged) == before


def test_a_raw_age_without_a_calls_age_is_refused(home):
    (home / "ringledger.toml").write_text("[retention]\ncalls_days = 60\n")
    with pytest.raises(ConfigError, match="raw_days must be set and at most calls_days"):
        load_settings()


def test_a_dry_run_lists_what_would_go_and_changes_nothing(aged, capsys):
    (aged.home / "ringledger.toml").write_text(SITE + RETENTION)
    settings = load_settings()
    before = calls_by_day(settings)
    assert main(["retention", "run", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "calls: would remove 1 item(s)" in out
    assert "calls: would anonymise 1 day(s)" in out
    assert "archive: would remove 2 item(s)" in out
    assert "audit_log: would remove 1 item(s)" in out
    assert calls_by_day(settings) == before
    assert Lake(settings.lake_dir).frozen_before() is None
    assert not [e for e in query_audit(appdb.open_db(settings)).entries if e.action == retention.AUDIT_ACTION]


def test_old_data_is_removed_and_old_numbers_anonymised_consistently(aged):
    (aged.home / "ringledger.toml").write_text(SITE + RETENTION)
    settings = load_settings()
    before = calls_by_day(settings)
    engine = appdb.open_db(settings)
    result = retention.run(settings, engine)
    after = calls_by_day(settings)

    # calls older than 60 days are gone; the 50-day-old ones stay, anonymised; the recent ones are untouched
    assert set(after) == {day_of(50), day_of(2)}
    assert after[day_of(2)] == before[day_of(2)]
    old, new = before[day_of(50)], after[day_of(50)]
    assert len(old) == len(new)
    for b, a in zip(old, new, strict=True):
        direction, number, e164 = a[0], a[1], a[2]
        if direction == "internal":
            assert number == b[1]  # a colleague's extension is not personal data of an outside party
        else:
            assert number.startswith("anon-")
            assert len(number) == len("anon-") + 16
            assert e164.startswith("anon-")
        assert a[3:] == b[3:]  # nation, destination type, cost and duration are kept

    # the same number gives the same hash in calls and in the raw legs
    con = warehouse.connect(settings)
    hashed = con.execute("select other_number from calls where day = ? and direction = 'outgoing'", [day_of(50)])
    outgoing = hashed.fetchall()[0][0]
    raw = con.execute("select finalCalledPartyNumber, callingPartyNumber from cdr where day = ?", [day_of(50)])
    raw_numbers = {n for row in raw.fetchall() for n in row}
    assert outgoing in raw_numbers
    assert OUTSIDE not in raw_numbers
    assert "2001" in raw_numbers
    assert con.execute("select count(*) from cdr where day = ?", [day_of(100)]).fetchone()[0] == 0
    # the stored offers of incoming calls follow: worked out again from the anonymised calls, or gone
    offered = {r[0] for r in con.execute("select other_number from offers where day = ?", [day_of(50)]).fetchall()}
    assert offered
    assert offered <= {row[1] for row in new}
    assert any(n.startswith("anon-") for n in offered)
    assert con.execute("select count(*) from offers where day = ?", [day_of(100)]).fetchone()[0] == 0
    rejects = con.execute("select raw from rejects").fetchall()
    assert rejects == []  # 50 days old is past rejects_days = 30

    # archive folders of old files are gone; the mail outbox and the audit log are cut
    archived = sorted(p.name for p in settings.archive_dir.rglob("cdr_*"))
    assert len(archived) == 1
    assert sorted(p.name for p in settings.outbox_dir.iterdir()) == ["new.eml"]
    entries = query_audit(engine).entries
    assert not [e for e in entries if e.at < datetime.now(UTC) - timedelta(days=365)]
    mine = [e for e in entries if e.action == retention.AUDIT_ACTION]
    assert len(mine) == 1
    detail = json.loads(mine[0].detail)
    kinds = {r["kind"]: r for r in detail["removed"]}
    assert kinds["calls"]["items"] == 1
    assert kinds["calls"]["oldest"] == day_of(100)
    assert {"raw_cdr", "archive", "audit_log", "mail"} <= set(kinds)
    assert {a["kind"] for a in detail["anonymised"]} >= {"calls", "raw_cdr"}

    # the numbers cache forgets what only anonymised days used
    cache = [f for f in Lake(settings.lake_dir).files("numbers")]
    cached = {r[0] for r in con.execute("select raw from read_parquet(?)", [[str(f) for f in cache]]).fetchall()}
    assert "0445551250" not in cached
    assert {"0445551202", OUTSIDE} <= cached
    assert result.frozen_before is not None

    # days before the frozen horizon are never rebuilt from what is left of them
    with engine.begin() as conn:
        conn.execute(appdb.dirty_day.insert().values(day=at_noon(50).date(), marked_at=appdb.utcnow()))
    Ingestor(settings).rebuild_pending()
    assert calls_by_day(settings) == after
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(appdb.dirty_day)).scalar_one() == 0

    # a second run finds nothing more to do and writes no entry
    again = retention.run(settings, engine)
    assert not again.changed
    assert len([e for e in query_audit(engine).entries if e.action == retention.AUDIT_ACTION]) == 1


def test_the_key_is_made_once_and_kept_private(home):
    settings = load_settings()
    key = retention.anonymisation_key(settings)
    assert retention.anonymisation_key(settings) == key
    assert (home / retention.KEY_FILE).stat().st_mode & 0o077 == 0
