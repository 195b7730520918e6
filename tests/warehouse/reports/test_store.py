"""Personal reports, report history, per-person preferences and the `ringledger report` command."""

from __future__ import annotations

import io

import openpyxl
import pytest

from ringledger.cli import main
from warehouse import appdb, preferences
from warehouse.reports import Filters
from warehouse.reports.store import (
    delete_saved,
    get_saved,
    history,
    most_used,
    personal_reports,
    record_run,
    save_report,
)

pytestmark = pytest.mark.app_databases


def test_saved_reports_belong_to_their_owner(ravello):
    engine = appdb.open_db(ravello)
    options = Filters(period="last_month", departments=["Sales"])
    saved = save_report(
        engine, "james.carter", "Sales last month", "cost_by_department", options, "for the monthly review", "Monthly"
    )
    again = save_report(
        engine,
        "james.carter",
        "Sales last month",
        "cost_by_department",
        options.merged(period="this_month"),
        "updated",
        "Monthly",
    )
    assert again.id == saved.id
    assert again.filters.period == "this_month"
    assert [r.name for r in personal_reports(engine, "james.carter")] == ["Sales last month"]
    assert get_saved(engine, "emily.wong", saved.id) is None  # someone else's
    assert not delete_saved(engine, "emily.wong", saved.id)
    assert delete_saved(engine, "james.carter", saved.id)
    assert personal_reports(engine, "james.carter") == []


def test_saving_needs_a_name_and_a_known_report(ravello):
    engine = appdb.open_db(ravello)
    with pytest.raises(ValueError, match="needs a name"):
        save_report(engine, "james.carter", "  ", "call_list", Filters())
    with pytest.raises(KeyError, match="no report named"):
        save_report(engine, "james.carter", "x", "no_such_report", Filters())


def test_history_is_newest_first_and_counts_use(ravello):
    engine = appdb.open_db(ravello)
    for name in ("call_list", "phone_bill", "call_list"):
        record_run(engine, "emily.wong", name, Filters(), rows=3)
    runs = history(engine, "emily.wong")
    assert [r.report for r in runs[:3]] == ["call_list", "phone_bill", "call_list"]
    public, personal = most_used(engine, "emily.wong")
    assert public[:2] == ["call_list", "phone_bill"]
    assert personal == []


def test_language_and_zone_come_from_choice_directory_then_site(ravello):
    engine = appdb.open_db(ravello)
    assert preferences.person_language(ravello, engine, "layla.haddad") == "ar"  # directory entry
    assert preferences.person_language(ravello, engine, "marco.bianchi") == "it"  # none of his own: Milano's
    assert preferences.person_zone(ravello, engine, "james.carter") == "Europe/London"  # his site's
    preferences.set_preferences(engine, "emily.wong", language="pl", time_zone="Europe/Warsaw")
    assert preferences.person_language(ravello, engine, "emily.wong") == "pl"
    assert preferences.person_zone(ravello, engine, "emily.wong") == "Europe/Warsaw"
    with pytest.raises(ValueError, match="unknown language"):
        preferences.set_preferences(engine, "emily.wong", language="tlh")


def test_dashboard_layout_is_kept(ravello):
    engine = appdb.open_db(ravello)
    first = preferences.add_widget(engine, "james.carter", "last_calls", "top")
    second = preferences.add_widget(engine, "james.carter", "week_costs_area", "left")
    preferences.set_minimised(engine, "james.carter", first.id, True)
    preferences.move_widget(engine, "james.carter", second.id, "right")
    layout = {w.widget: w for w in preferences.dashboard(engine, "james.carter")}
    assert layout["last_calls"].minimised
    assert layout["week_costs_area"].zone == "right"
    preferences.remove_widget(engine, "james.carter", first.id)
    assert [w.widget for w in preferences.dashboard(engine, "james.carter")] == ["week_costs_area"]
    with pytest.raises(ValueError, match="zone"):
        preferences.add_widget(engine, "james.carter", "last_calls", "ceiling")


def test_cli_runs_a_report_in_a_users_scope(ravello, tmp_path, capsys):
    out = tmp_path / "sales.xlsx"
    code = main(
        [
            "report",
            "run",
            "cost_by_extension",
            "--filter",
            '{"period": "all"}',
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--user",
            "giulia.rossi",
        ]
    )
    assert code == 0
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    assert sheet["A8"].value == "2302"
    assert sheet["A9"].value == "Total"  # only her own extension
    assert history(appdb.open_db(ravello), "giulia.rossi")[0].report == "cost_by_extension"


def test_cli_errors_say_what_is_wrong(ravello, tmp_path, capsys):
    assert main(["report", "run", "cost_by_planet", "--format", "pdf", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "no report named 'cost_by_planet'" in capsys.readouterr().err
    assert (
        main(
            [
                "report",
                "run",
                "call_list",
                "--filter",
                '{"period": "someday"}',
                "--format",
                "csv",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "--filter: period: unknown period 'someday'" in capsys.readouterr().err
    assert (
        main(["report", "run", "call_list", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--user", "nobody"])
        == 2
    )
    assert "--user nobody" in capsys.readouterr().err
