"""The demo company: CUCM-exact files that go through the real pipeline and tell a believable story."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

import warehouse
from ringledger.cli import main
from ringledger.demo import generate, load_demo, write_minute
from ringledger.demo.company import REASSIGNED_EXTENSION, SITES
from ringledger.demo.generator import STATE_NAME
from warehouse.cucm_format import CDR_FIELDS, CMR_FIELDS, ip_from_int

END = datetime(2024, 5, 8, 16, 0, tzinfo=UTC)  # a Wednesday afternoon in Europe, morning in New York
LEGS, DAYS, SEED = 5000, 3, 11
NAME_RE = re.compile(r"^(cdr|cmr)_RavelloCluster_(0[12])_(\d{12})_(\d+)$")
TOKEN_RE = re.compile(r'"(?:[^"]|"")*"|[^,]*')


def data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")))


def tokens(line: str) -> list[str]:
    """Raw CSV fields of a line, quotes kept (so quoting can be checked)."""
    out, pos = [], 0
    while True:
        m = TOKEN_RE.match(line, pos)
        out.append(m.group(0))
        pos = m.end()
        if pos >= len(line):
            return out
        assert line[pos] == ",", line
        pos += 1


@pytest.fixture(scope="module")
def per_minute(tmp_path_factory) -> Path:
    """The small demo as CUCM writes it: one file per node per minute."""
    out = tmp_path_factory.mktemp("demo-1min")
    generate(out, legs=LEGS, days=DAYS, seed=SEED, end=END)
    return out


@pytest.fixture(scope="module")
def hourly(tmp_path_factory) -> Path:
    """The same demo grouped in hourly files (fewer files to ingest)."""
    out = tmp_path_factory.mktemp("demo-60min")
    generate(out, legs=LEGS, days=DAYS, seed=SEED, end=END, file_minutes=60)
    return out


@pytest.fixture(scope="module")
def loaded(hourly, tmp_path_factory):
    """The hourly demo ingested by the real Ingestor, with its configuration and directory, in a fresh home."""
    from warehouse import appdb, directory, views
    from warehouse.config import load_settings
    from warehouse.ingest import Ingestor
    from warehouse.lake import Lake

    home = tmp_path_factory.mktemp("demo-home")
    shutil.copyfile(hourly / "ringledger.toml", home / "ringledger.toml")
    saved = {k: os.environ.get(k) for k in ("RINGLEDGER_HOME", "RINGLEDGER_CONFIG", "RINGLEDGER_DATABASE_URL")}
    os.environ["RINGLEDGER_HOME"] = str(home)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    try:
        settings = load_settings()
        people = directory.read_csv(hourly / "directory.csv")
        imported = directory.apply(appdb.open_db(settings), people, source="csv", lake=Lake(settings.lake_dir))
        report = Ingestor(settings).ingest([hourly / "cdr"])
        yield settings, report, imported, people, warehouse.connect(settings)
    finally:
        views.reset()
        appdb.dispose_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- the files ------------------------------------------------------------------------------------


def test_files_are_named_and_laid_out_as_cucm_writes_them(per_minute):
    files = data_files(per_minute / "cdr")
    assert files
    seen: set[tuple[str, str, str]] = set()
    seq_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    by_node: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in files:
        m = NAME_RE.match(path.name)
        assert m, path.name
        kind, node, minute, seq = m.group(1), m.group(2), m.group(3), int(m.group(4))
        assert (kind, node, minute) not in seen, f"two {kind} files for node {node} in minute {minute}"
        seen.add((kind, node, minute))
        seq_of[(node, minute)].add(seq)
        by_node[node].append((minute, seq))
        raw = path.read_bytes()
        assert b"\r" not in raw
        assert not raw.endswith(b"\n")
        lines = raw.decode("utf-8").split("\n")
        fields = CDR_FIELDS if kind == "cdr" else CMR_FIELDS
        assert lines[0] == ",".join(f'"{name}"' for name, _ in fields)
        assert lines[1] == ",".join(kind_ for _, kind_ in fields)
        assert len(lines) > 2
        start = int(datetime.strptime(minute, "%Y%m%d%H%M").replace(tzinfo=UTC).timestamp())
        stamp_at = 48 if kind == "cdr" else 6  # dateTimeDisconnect / dateTimeStamp
        for line in lines[2:]:
            values = next(csv.reader([line]))
            assert len(values) == len(fields)
            assert start <= int(values[stamp_at]) < start + 60, f"{path.name}: a record of another minute"
    # the CDR and CMR file of the same node and minute share the sequence number, which grows per node
    assert all(len(s) == 1 for s in seq_of.values())
    for rows in by_node.values():
        seqs = [seq for _, seq in sorted(set(rows))]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
    assert {node for _, node, _ in seen} == {"01", "02"}


def test_values_are_typed_quoted_and_encoded_like_cucm(per_minute):
    checked = {"cdr": 0, "cmr": 0}
    for path in data_files(per_minute / "cdr")[::10]:
        kind = path.name[:3]
        fields = CDR_FIELDS if kind == "cdr" else CMR_FIELDS
        names = [n for n, _ in fields]
        for line in path.read_text().split("\n")[2:]:
            raw = tokens(line)
            assert len(raw) == len(fields)
            for (name, type_), value in zip(fields, raw, strict=True):
                if type_ == "INTEGER":
                    # integers unquoted; a CMR leaves the ones that do not apply empty
                    assert re.fullmatch(r"-?\d+", value) or (kind == "cmr" and value == ""), f"{name} in {path.name}"
                else:
                    assert re.fullmatch(r'"(?:[^"]|"")*"', value), f"{name} unquoted in {path.name}"
            row = dict(zip(names, next(csv.reader([line])), strict=True))
            if kind == "cdr":
                for ip_int, ip_text in (("origIpAddr", "origIpv4v6Addr"), ("destIpAddr", "destIpv4v6Addr")):
                    assert (ip_from_int(int(row[ip_int])) or "") == row[ip_text]
                connect, disconnect = int(row["dateTimeConnect"]), int(row["dateTimeDisconnect"])
                assert int(row["duration"]) == (disconnect - connect if connect else 0)
                assert int(row["dateTimeOrigination"]) <= disconnect
                assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", row["pkid"])
                for device in (row["origDeviceName"], row["destDeviceName"]):
                    if device.startswith("SEP"):
                        assert re.fullmatch(r"SEP[0-9A-F]{12}", device)
            else:
                # packets follow the talk time: 50 a second (20 ms)
                assert abs(int(row["numberPacketsSent"]) - 50 * int(row["duration"])) <= 2
                assert row["videoDuration"] == ""
                assert row["headsetSN"] == ""
            checked[kind] += 1
    assert checked["cdr"] > 100
    assert checked["cmr"] > 100


def test_the_requested_number_of_legs_is_written(per_minute):
    legs = sum(len(p.read_text().split("\n")) - 2 for p in data_files(per_minute / "cdr") if p.name.startswith("cdr_"))
    assert abs(legs - LEGS) <= LEGS * 0.01


def test_grouping_files_by_the_hour_changes_no_record(per_minute, hourly):
    def records(folder: Path) -> list[str]:
        out = []
        for p in data_files(folder / "cdr"):
            out += p.read_text().split("\n")[2:]
        return sorted(out)

    assert records(per_minute) == records(hourly)
    assert len(data_files(hourly / "cdr")) < len(data_files(per_minute / "cdr")) / 5


def test_same_seed_same_bytes_other_seed_other_calls(tmp_path):
    def run(name: str, seed: int) -> dict[str, bytes]:
        out = tmp_path / name
        generate(out, legs=600, days=1, seed=seed, end=END, file_minutes=60)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    first, again, other = run("a", 5), run("b", 5), run("c", 6)
    assert first == again
    assert first["directory.csv"] == other["directory.csv"]  # the company does not depend on the seed
    assert {k: v for k, v in first.items() if k.startswith("cdr/cdr_")} != {
        k: v for k, v in other.items() if k.startswith("cdr/cdr_")
    }


def test_outside_numbers_are_dialled_with_the_access_code_and_valid(per_minute):
    prefixes = {"MIL-GW-01": ("0", "IT", "00"), "LON-SBC-01": ("9", "GB", "00"), "NYC-SBC-01": ("9", "US", "011")}
    emergency = {n for s in SITES for n in s.emergency_numbers}
    kinds: dict[str, set[str]] = defaultdict(set)
    for path in data_files(per_minute / "cdr"):
        if not path.name.startswith("cdr_"):
            continue
        rows = csv.DictReader(path.read_text().split("\n")[:1] + path.read_text().split("\n")[2:])
        for row in rows:
            if row["destDeviceName"] not in prefixes or row["origDeviceName"].startswith("CFB"):
                continue
            access, region, international = prefixes[row["destDeviceName"]]
            number = row["finalCalledPartyNumber"]
            assert number.startswith(access), number
            if number in emergency:
                kinds[region].add("emergency")
                continue
            dialled = number[len(access) :]
            if dialled.startswith(international):
                parsed = phonenumbers.parse("+" + dialled[len(international) :])
                kinds[region].add("international")
            else:
                parsed = phonenumbers.parse(dialled[1:] if region == "US" else dialled, region)
                kinds[region].add(str(phonenumbers.number_type(parsed)))
            assert phonenumbers.is_valid_number(parsed), number
    assert {"international", str(phonenumbers.PhoneNumberType.MOBILE)} <= kinds["IT"]
    assert {"international", str(phonenumbers.PhoneNumberType.MOBILE)} <= kinds["GB"]
    assert "international" in kinds["US"]


# --- through the pipeline ---------------------------------------------------------------------------


def test_ingest_has_no_rejects_and_every_leg_lands(loaded):
    _, report, _, _, con = loaded
    assert report.failed == []
    assert report.not_cdr == []
    assert report.rejects == 0
    assert con.execute("select count(*) from rejects").fetchone()[0] == 0
    assert abs(con.execute("select count(*) from cdr").fetchone()[0] - LEGS) <= LEGS * 0.01
    assert con.execute("select count(*) from cmr").fetchone()[0] > LEGS * 0.7


def test_calls_show_every_direction_and_kind_of_call(loaded):
    con = loaded[-1]
    directions = {r[0] for r in con.execute("select distinct direction from calls").fetchall()}
    assert {"outgoing", "incoming", "internal", "tandem"} <= directions
    kinds = {r[0] for r in con.execute("select distinct leg_kind from calls").fetchall()}
    assert {"call", "transfer_split", "conference", "recording", "offhook"} <= kinds
    counts = con.execute(
        """
        select count(*) filter (where missed and counted),
               count(*) filter (where transferred and leg_kind = 'call'),
               count(*) filter (where forwarded and direction = 'tandem'),
               count(*) filter (where forwarded and redirect_reason = 'Call Forward No Answer'),
               count(*) filter (where cause_code = 17),
               count(*) filter (where cause_code = 19)
        from calls
        """
    ).fetchone()
    assert all(n > 5 for n in counts), counts
    pilots = dict(
        con.execute("select hunt_pilot, count(*) from calls where hunt_pilot is not null group by 1").fetchall()
    )
    assert set(pilots) == {"2900", "4900", "6900"}
    # unanswered member legs carry the pilot only through pattern usage 7 (empty huntPilotDN)
    assert (
        con.execute(
            "select count(*) from cdr where calledPartyPatternUsage = 7 and huntPilotDN is null and dateTimeConnect = 0"
        ).fetchone()[0]
        > 0
    )
    # never billed: conference bridges, recorders, off-hook legs
    assert (
        con.execute(
            "select count(*) from calls where billable and leg_kind in ('conference', 'recording', 'offhook')"
        ).fetchone()[0]
        == 0
    )


def test_answered_desk_phone_legs_have_call_quality(loaded):
    con = loaded[-1]
    with_mos, total = con.execute(
        """
        select count(mos), count(*) from calls
        where answered and duration_s > 0 and device like 'SEP%' and leg_kind in ('call', 'transfer_split')
        """
    ).fetchone()
    assert total > 500
    assert with_mos / total > 0.95
    by_gateway = dict(
        con.execute(
            "select gateway, avg(mos) from calls where mos is not null and gateway is not null group by 1"
        ).fetchall()
    )
    assert by_gateway["New York SIP trunk"] < min(by_gateway["Milano PSTN"], by_gateway["London SIP trunk"]) - 0.15


def both_ways(settings, runs, monkeypatch, *stored_checks: str) -> tuple[list, list]:
    """The rows of each (report, filters) run as an administrator: from what the calls build stored,
    then with the engine's `stored_checks` (its functions that tell whether it may read them) saying no."""
    from warehouse.access import Principal
    from warehouse.reports import engine as engine_module
    from warehouse.reports import run_report

    admin = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())
    stored = [run_report(settings, admin, name, filters).rows for name, filters in runs]
    for check in stored_checks:
        monkeypatch.setattr(engine_module, check, lambda *args: False)
    return stored, [run_report(settings, admin, name, filters).rows for name, filters in runs]


def test_stored_offers_give_the_same_answer_figures_as_working_them_out_from_the_calls(loaded, monkeypatch):
    from warehouse.reports import Filters
    from warehouse.reports import engine as engine_module

    settings = loaded[0]
    con = warehouse.connect(settings)
    outcomes = dict(con.execute("select outcome, count(*) from offers group by 1").fetchall())
    assert set(outcomes) == {"answered", "overflowed", "abandoned", "not_answered"}, outcomes
    runs = [
        ("answer_rate_by_extension", Filters(period="all", time_zone="UTC")),
        ("incoming_by_hour", Filters(period="all", traffic="external", time_zone="Europe/Rome")),
        ("answer_rate_by_extension", Filters(period="custom", date_from=END.date(), date_to=END.date())),
    ]
    assert engine_module.offers_stored(con, settings, engine_module.resolve_period(runs[0][1], "UTC"))
    stored, worked_out = both_ways(settings, runs, monkeypatch, "offers_stored")
    assert all(len(rows) > 5 for rows in stored)
    assert stored == worked_out


def test_the_trend_from_quarter_hours_is_the_trend_from_the_calls(loaded, monkeypatch):
    from warehouse.access import Assignment, Principal
    from warehouse.reports import Filters
    from warehouse.reports import engine as engine_module
    from warehouse.reports.catalogue import get

    settings = loaded[0]
    admin = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())
    days = Filters(period="custom", date_from=(END - timedelta(days=3)).date(), date_to=END.date())
    runs = [
        days.merged(granularity="hour", time_zone="UTC"),
        days.merged(granularity="day", time_zone="Europe/Rome", traffic="external"),
        days.merged(granularity="hour", time_zone="Asia/Kolkata"),
        days.merged(granularity="day", time_zone="America/New_York", traffic="internal"),
        Filters(period="all", granularity="month", time_zone="Europe/London"),
    ]
    for filters in runs:
        assert "quarter_hours" in engine_module.build_query(settings, admin, get("trend"), filters).sql
    # a filter the quarters cannot answer, or a reader who may not see every call: from the calls
    filtered = engine_module.build_query(settings, admin, get("trend"), days.merged(gateways=["x"]))
    assert "quarter_hours" not in filtered.sql
    user = Principal("u", role="user", time_zone="UTC", language="en", assignments=(Assignment("2105"),))
    assert "quarter_hours" not in engine_module.build_query(settings, user, get("trend"), days).sql
    rolled, from_calls = both_ways(settings, [("trend", f) for f in runs], monkeypatch, "reads_rollup")
    assert all(rolled)
    assert len(rolled[0]) > 48  # hours of the demo's days
    assert rolled == from_calls


def test_stored_pilot_offers_and_gateway_load_give_the_reports_of_the_calls(loaded, monkeypatch):
    from warehouse.access import Principal
    from warehouse.reports import Filters
    from warehouse.reports import engine as engine_module
    from warehouse.reports.catalogue import get

    settings = loaded[0]
    admin = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())
    days = Filters(period="custom", date_from=(END - timedelta(days=3)).date(), date_to=END.date())
    runs = [
        ("answer_rate_by_hunt_pilot", Filters(period="all", time_zone="UTC")),
        ("answer_rate_by_hunt_pilot", days.merged(time_zone="Europe/Rome", traffic="external")),
        ("gateway_utilisation", days.merged(time_zone="UTC", max_rows=100_000)),
        ("busiest_hours", days.merged(time_zone="Asia/Kolkata")),
        ("erlang_b_sizing", days.merged(time_zone="America/New_York", busy_days=2)),
        ("concurrent_calls", days.merged(time_zone="Europe/London", interval="15min", max_rows=100_000)),
        ("concurrent_calls", days.merged(time_zone="Asia/Kathmandu", interval="day")),
    ]
    for name, filters in runs:
        assert {"from pilot_offers", "from gateway_load"} & set(
            re.findall(r"from \w+", engine_module.build_query(settings, admin, get(name), filters).sql)
        ), name
    stored, from_calls = both_ways(settings, runs, monkeypatch, "reads_rollup", "reads_load")
    assert all(stored)
    assert len(stored[2]) > 48  # hours of the demo's days, for each gateway
    assert stored == from_calls


def test_each_day_comes_out_the_same_built_with_the_others_or_alone(loaded, monkeypatch):
    from warehouse import calls as calls_module
    from warehouse.ingest import rebuild_days
    from warehouse.lake import Lake

    settings, report, *_ = loaded
    assert len(report.rebuilt_days) >= 3  # the ingest built its days together, in one span
    con = warehouse.connect(settings)
    query = "select * exclude (user_id, user_name, department, cost_centre) from calls order by pkid, leg_role"
    together = con.execute(query).fetchall()
    offers = "select * from offers_facts order by call_id, extension"
    offered = con.execute(offers).fetchall()
    assert len(offered) > 100
    crossing = con.execute("select count(*) from calls where started_at::date < ended_at::date and mos is not null")
    assert crossing.fetchone()[0] > 0  # calls over midnight with their quality from the next day's CMRs
    monkeypatch.setattr(calls_module, "SPAN_LEGS", 0)  # now every day is a span of its own
    lake = Lake(settings.lake_dir)
    before = set(lake.files("calls"))
    rebuild_days(settings)
    assert not before & set(lake.files("calls"))
    con = warehouse.connect(settings)  # sees the rebuilt partitions
    assert con.execute(query).fetchall() == together
    assert con.execute(offers).fetchall() == offered


def test_calls_follow_office_hours_in_each_site(loaded):
    con = loaded[-1]
    zones = {s.name: s.time_zone for s in SITES}
    in_hours = total = 0
    for site, started in con.execute(
        "select site, started_at from calls where counted and leg_role = 'caller'"
    ).fetchall():
        local = started.astimezone(ZoneInfo(zones[site]))
        total += 1
        in_hours += local.weekday() < 5 and 8 <= local.hour < 19
    assert total > 1000
    assert in_hours / total > 0.8


def test_directory_imports_and_the_reassigned_line_is_charged_to_each_owner_in_turn(loaded, hourly):
    _, _, imported, people, con = loaded
    assert imported.created == len(people) > 290
    admin = next(p for p in people if p.username == "admin")
    assert admin.role == "administrator"
    assert admin.extensions == []
    supervisors = {p.username for p in people if p.role == "supervisor"}
    assert all(p.manager in supervisors for p in people if p.role == "user")
    owners = [p for p in people if REASSIGNED_EXTENSION in p.extensions]
    assert len(owners) == 2
    assert owners[0].valid_from is None
    change = owners[1].valid_from
    assert END - timedelta(days=DAYS) < change < END
    rows = con.execute(
        "select user_id, started_at from calls where extension = ? and leg_kind = 'call'", [REASSIGNED_EXTENSION]
    ).fetchall()
    before = {u for u, t in rows if t < change}
    after = {u for u, t in rows if t >= change}
    assert before == {owners[0].username}
    assert after == {owners[1].username}
    assert sum(t < change for _, t in rows) > 5
    assert sum(t >= change for _, t in rows) > 5


# --- the live feed and the data home ----------------------------------------------------------------


def test_write_minute_continues_the_cluster(tmp_path):
    generate(tmp_path, legs=800, days=1, seed=3, end=END)
    folder = tmp_path / "cdr"
    before = {p.name for p in data_files(folder)}
    last_seq = {n: max(int(NAME_RE.match(x).group(4)) for x in before if x.split("_")[2] == n) for n in ("01", "02")}
    summary = write_minute(folder, END + timedelta(minutes=3))
    new = {p.name for p in data_files(folder)} - before
    assert new
    assert summary.files == len(new)
    for name in new:
        m = NAME_RE.match(name)
        assert END <= datetime.strptime(m.group(3), "%Y%m%d%H%M").replace(tzinfo=UTC) < END + timedelta(minutes=3)
        assert int(m.group(4)) > last_seq[m.group(2)]
    assert write_minute(folder, END + timedelta(minutes=3)).files == 0  # a minute is written once


def test_load_demo_makes_an_empty_home_a_working_demo(home):
    from warehouse import appdb, directory
    from warehouse.access import authenticate_local
    from warehouse.config import load_settings

    result = load_demo(home, legs=1500, days=2, seed=2, end=END)
    settings = load_settings()
    assert settings.demo
    assert [s.name for s in settings.sites] == ["Milano", "London", "New York"]
    assert result.rejects == 0
    assert result.legs > 1400
    engine = appdb.open_db(settings)
    assert authenticate_local(engine, "admin", "admin").is_admin
    employee = next(p for p in directory.read_csv(result.directory) if p.extensions)
    assert authenticate_local(engine, employee.username, "demo") is not None
    assert authenticate_local(engine, employee.username, "admin") is None
    assert result.state_file == settings.inbox_dir / STATE_NAME
    assert result.state_file.exists()
    con = warehouse.connect(settings)
    assert con.execute("select count(*) from calls where user_id is not null").fetchone()[0] > 1000
    written = write_minute(settings.inbox_dir, END + timedelta(minutes=10))
    assert written.legs > 0
    assert written.first >= END
    (home / "other").mkdir()
    (home / "other" / "ringledger.toml").write_text("[company]\nname = 'Real'\n")
    with pytest.raises(ValueError, match="not the demo"):
        load_demo(home / "other", legs=10, days=1)


def test_demo_command_writes_files_and_reports(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--legs", "300", "--days", "1", "--end", "2024-05-08T16:00Z",
                 "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "CDR legs" in out
    assert str(tmp_path / "cdr") in out
    assert (tmp_path / "directory.csv").exists()
    assert (tmp_path / "ringledger.toml").exists()
    assert main(["demo", "--out", str(tmp_path), "--legs", "300", "--file-minutes", "7"]) == 2
    assert "--file-minutes" in capsys.readouterr().err


def test_memory_stays_bounded_as_the_run_grows(tmp_path):
    """Peak memory of a 10x bigger run grows by a few MB: calls are streamed, never held."""
    script = textwrap.dedent(
        """
        import resource, sys
        from datetime import datetime, UTC
        from pathlib import Path
        from ringledger.demo import generate
        from ringledger.demo.company import build_company
        from ringledger.demo.numbers import site_numbers
        build_company(300, None)
        for s in ("Milano", "London", "New York"):
            site_numbers(s)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        generate(Path(sys.argv[1]), legs=int(sys.argv[2]), days=5, seed=1,
                 end=datetime(2024, 5, 8, 16, tzinfo=UTC), file_minutes=60)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
        """
    )
    growth = {}
    for legs in (20_000, 200_000):
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / str(legs)), str(legs)],
            capture_output=True,
            text=True,
            check=True,
        )
        growth[legs] = int(done.stdout.split()[-1])  # KiB
    assert growth[200_000] - growth[20_000] < 40 * 1024, growth
