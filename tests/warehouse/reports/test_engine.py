"""The report engine on real ingested CUCM calls: scope, masking, every catalogue report, Home data."""

from __future__ import annotations

import dataclasses
import zoneinfo
from datetime import date, timedelta

import pytest

from tests.ravello import CALLS
from tests.warehouse.reports.counting import Counting
from warehouse import appdb
from warehouse.access import Principal, load_principal
from warehouse.reports import Filters, list_reports, run_report
from warehouse.reports.home import last_calls, month_summary


def person(settings, user_id: str) -> Principal:
    principal = load_principal(appdb.open_db(settings), user_id)
    assert principal is not None
    return principal


ALL = Filters(period="all")


def numbers(result) -> set[str]:
    return {r["other_number"] for r in result.records()}


def test_a_user_sees_only_calls_of_their_own_extension(ravello):
    result = run_report(ravello, person(ravello, "giulia.rossi"), "call_list", ALL)
    assert {r["extension"] for r in result.records()} == {"2302"}
    assert len(result.rows) == sum(1 for c in CALLS if "2302" in (c.calling, c.called))
    # Marco's and James's outside calls are not there, masked or not
    assert not any(n.startswith(("00287654", "90207946")) for n in numbers(result))


def test_external_numbers_are_masked_internal_ones_are_not(ravello):
    result = run_report(ravello, person(ravello, "giulia.rossi"), "call_list", ALL)
    assert "00212345***" in numbers(result)
    assert "00212345678" not in numbers(result)
    assert "4410" in numbers(result)  # the internal call to James: an extension, not a private number
    admin = run_report(ravello, person(ravello, "admin"), "call_list", ALL)
    assert "00212345***" in numbers(admin)  # administrators too, by default (privacy.mask_digits)
    unmasked = ravello.model_copy(
        update={"privacy": ravello.privacy.model_copy(update={"mask_digits": {"administrator": 0, "user": 3}})}
    )
    assert "00212345678" in numbers(run_report(unmasked, person(ravello, "admin"), "call_list", ALL))


def test_a_supervisor_sees_the_department_they_manage(ravello):
    result = run_report(ravello, person(ravello, "marco.bianchi"), "cost_by_department", ALL)
    assert [r["g1"] for r in result.records()] == ["Sales"]
    extensions = run_report(ravello, person(ravello, "marco.bianchi"), "cost_by_extension", ALL)
    assert {r["g1"] for r in extensions.records()} == {"2302", "2303"}


def test_group_cost_by_department_with_a_filter(ravello):
    admin = person(ravello, "admin")
    everything = run_report(ravello, admin, "cost_by_department", ALL)
    by_dept = {r["g1"]: r["calls"] for r in everything.records()}
    assert by_dept == {"Sales": 8, "Finance": 3, "Engineering": 1}
    finance = run_report(ravello, admin, "cost_by_department", Filters(period="all", departments=["Finance"]))
    assert [(r["g1"], r["calls"]) for r in finance.records()] == [("Finance", 3)]
    assert finance.totals["calls"] == 3
    assert "Departments: Finance" in finance.description


def test_extra_conditions_and_call_types(ravello):
    admin = person(ravello, "admin")
    long_calls = run_report(
        ravello,
        admin,
        "call_list",
        Filters(period="all", conditions=[{"field": "duration_s", "op": "ge", "value": "300"}]),
    )
    assert sorted(r["duration_s"] for r in long_calls.records()) == [300, 420, 600]
    either = run_report(
        ravello,
        admin,
        "call_list",
        Filters(
            period="all",
            conditions=[
                {"field": "extension", "op": "eq", "value": "6120"},
                {"field": "extension", "op": "eq", "value": "4420", "join": "or"},
            ],
        ),
    )
    assert {r["extension"] for r in either.records()} == {"6120", "4420"}
    missed = run_report(ravello, admin, "call_list", Filters(period="all", call_types=["incoming_missed"]))
    assert numbers(missed) == {"3471234***"}


def test_field_selection_and_maximum_rows(ravello):
    result = run_report(
        ravello, person(ravello, "admin"), "call_list", Filters(period="all", fields=["extension", "cost"], max_rows=3)
    )
    assert [c.key for c in result.columns] == ["extension", "cost"]
    assert len(result.rows) == 3
    assert result.truncated


@pytest.mark.parametrize("report", [r.name for r in list_reports()])
def test_every_catalogue_report_runs_for_a_user_and_an_administrator(ravello, report):
    for user in ("giulia.rossi", "admin"):
        result = run_report(ravello, person(ravello, user), report, Filters(period="all"), language="de")
        assert result.columns
        assert result.title  # translated title
        assert all(len(row) == len(result.columns) for row in result.rows)


def test_labels_follow_the_language(ravello):
    result = run_report(ravello, person(ravello, "admin"), "cost_by_department", ALL, language="fr")
    assert result.title == "Coût groupé par service"
    assert [c.label for c in result.columns][:2] == ["Service", "Appels"]


def test_my_traffic_is_my_own_even_for_an_administrator(ravello):
    result = run_report(ravello, person(ravello, "admin"), "personal_traffic", ALL)
    assert result.rows == []  # the administrator has no extension
    marco = run_report(ravello, person(ravello, "marco.bianchi"), "personal_traffic", ALL)
    assert sum(r["calls"] for r in marco.records()) == 1  # only his own call, not his team's


def test_home_last_calls_are_the_newest_of_my_own_extension(ravello, ravello_home):
    _home, now = ravello_home
    giulia = person(ravello, "giulia.rossi")
    calls = last_calls(ravello, giulia, 3, now=now)
    assert [c.number for c in calls] == ["00212345***", "0298765***", "3471234***"]
    assert [c.call_type for c in calls] == ["outgoing", "incoming", "missed_incoming"]
    everything = last_calls(ravello, giulia, 200, now=now)  # widens to the whole history
    assert len(everything) == 7
    assert everything[-1].number == "00611223***"
    internal = next(c for c in everything if c.internal)
    assert internal.number == "4410"
    assert internal.gateway == ""


def test_home_month_summary_uses_the_local_month(ravello, ravello_home):
    _home, now = ravello_home
    zone = zoneinfo.ZoneInfo("Europe/Rome")
    giulia = person(ravello, "giulia.rossi")
    summary = month_summary(ravello, giulia, "Europe/Rome", now=now)
    local_now = now.astimezone(zone)
    mine = [c for c in CALLS if "2302" in (c.calling, c.called)]

    def local(c):
        return (now - timedelta(minutes=c.minutes_ago)).astimezone(zone)

    this_month = [c for c in mine if local(c).strftime("%Y-%m") == local_now.strftime("%Y-%m")]
    assert summary.calls == len(this_month)
    assert summary.month_start == local_now.date().replace(day=1)
    missed_today = [c for c in mine if c.called == "2302" and c.duration_s == 0 and local(c).date() == local_now.date()]
    assert summary.missed_today == len(missed_today)


def test_nothing_leaks_through_a_principal_without_rights(ravello):
    nobody = dataclasses.replace(person(ravello, "giulia.rossi"), assignments=())
    assert run_report(ravello, nobody, "call_list", ALL).rows == []
    assert last_calls(ravello, nobody, 20) == []


def test_home_reads_the_same_calls_with_or_without_its_index(ravello, ravello_home):
    _home, now = ravello_home
    giulia = person(ravello, "giulia.rossi")
    # an extension held only since some time ago cannot be answered from the index: the partitions are read
    since = min(a.valid_from or now for a in giulia.assignments) - timedelta(days=365)
    bounded = dataclasses.replace(
        giulia, assignments=tuple(dataclasses.replace(a, valid_from=since) for a in giulia.assignments)
    )
    assert last_calls(ravello, bounded, 5, now=now) == last_calls(ravello, giulia, 5, now=now)
    assert month_summary(ravello, bounded, "Europe/Rome", now=now) == month_summary(
        ravello, giulia, "Europe/Rome", now=now
    )


def test_home_index_follows_new_files(home):
    from datetime import UTC, datetime

    from tests.ravello import Call, build_home, cdr_file
    from warehouse.config import load_settings
    from warehouse.ingest import Ingestor

    now = datetime.now(UTC).replace(microsecond=0)
    build_home(home, now)
    settings = load_settings()
    giulia = person(settings, "giulia.rossi")
    assert last_calls(settings, giulia, 1, now=now)[0].number == "00212345***"
    before = month_summary(settings, giulia, "Europe/Rome", now=now)
    drop = home / "later"
    drop.mkdir()
    name, data = cdr_file([Call("2302", "00399999999", 0, 30, gateway_out="MIL-GW-01")], now=now + timedelta(minutes=3))
    (drop / name).write_bytes(data)
    Ingestor(settings).ingest([drop])
    assert last_calls(settings, giulia, 1, now=now)[0].number == "00399999***"
    assert month_summary(settings, giulia, "Europe/Rome", now=now + timedelta(minutes=5)).calls == before.calls + 1


def test_an_empty_lake_gives_empty_reports_and_home(settings):
    from warehouse.access import Assignment

    someone = Principal("someone", role="user", assignments=(Assignment("2001"),))
    for report in list_reports():
        assert run_report(settings, someone, report.name, Filters()).rows == []
    assert last_calls(settings, someone, 20) == []
    assert month_summary(settings, someone, "Europe/Rome").calls == 0


def test_option_lists_offer_only_what_the_person_may_see(ravello):
    from warehouse.reports.engine import choices

    assert choices(ravello, person(ravello, "giulia.rossi"), "department") == ["Sales"]
    assert choices(ravello, person(ravello, "admin"), "department") == ["Engineering", "Finance", "Sales"]
    assert choices(ravello, person(ravello, "marco.bianchi"), "extension") == ["2302", "2303"]
    with pytest.raises(ValueError, match="no choices for column"):
        choices(ravello, person(ravello, "admin"), "other_number")


def test_a_list_of_the_newest_calls_reads_the_last_days_first_and_the_rest_when_they_are_not_enough(
    ravello, monkeypatch
):
    import warehouse
    from warehouse.reports import engine

    admin = person(ravello, "admin")
    con = warehouse.connect(ravello)
    first, last = con.execute("select min(started_at)::date, max(started_at)::date from calls where counted").fetchone()
    assert (last - first).days > engine.RECENT_DAYS
    since = last - timedelta(days=engine.RECENT_DAYS - 1)
    recent = con.execute("select count(*) from calls where counted and started_at::date >= ?", [since]).fetchone()[0]
    total = con.execute("select count(*) from calls where counted").fetchone()[0]
    assert total > recent > 2

    def newest(rows: int, counting):
        # the start times only: calls that started together are the same row, whichever the list keeps
        filters = Filters(period="custom", date_from=first, date_to=last, time_zone="UTC", fields=["started_at"])
        return run_report(ravello, admin, "call_list", filters.merged(max_rows=rows), con=counting)

    for rows, queries in ((recent - 1, 1), (total, 2)):
        monkeypatch.setattr(engine, "RECENT_DAYS", 7)
        counting = Counting(con)
        shown = newest(rows, counting)
        # the last days only, or those and then the whole period when they held too few calls
        assert counting.queries == queries
        monkeypatch.setattr(engine, "RECENT_DAYS", 100_000)  # never only the last days
        whole = newest(rows, Counting(con))
        assert shown.rows == whole.rows
        assert shown.truncated == whole.truncated
        assert len(shown.rows) == rows


@pytest.mark.parametrize(
    "zone", ["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC"]
)
def test_local_time_by_offsets_is_duckdbs_conversion_across_a_year_of_transitions(zone):
    import duckdb

    from warehouse.reports.engine import local_start_sql
    from warehouse.reports.fields import LOCAL_START
    from warehouse.reports.filters import Params, resolve_period

    period = resolve_period(Filters(period="custom", date_from=date(2025, 1, 1), date_to=date(2026, 6, 30)), zone)
    params = Params()
    local = local_start_sql(zone, period, params)
    assert local is not None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    params.values["zone"] = zone
    params.values["first"], params.values["end"] = period.start_utc, period.end_utc
    # every 7 minutes and 13 seconds of the period, so each transition's neighbourhood is met
    differ = con.execute(
        f"""
        select count(*), count(*) filter (where {local} is distinct from {LOCAL_START})
        from (select unnest(generate_series($first, $end, interval 433 second)) as started_at)
        """,
        params.values,
    ).fetchone()
    assert differ[0] > 100_000
    assert differ[1] == 0
