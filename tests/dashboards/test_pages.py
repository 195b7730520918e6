"""An AppTest per portal page, logged in with a real session token (as the log-in page would make)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import registry
from warehouse import appdb, auth, preferences
from warehouse.access import Principal, load_principal
from warehouse.reports.store import history, personal_reports

PAGES = Path(__file__).resolve().parents[2] / "dashboards"


def token_for(settings, user_id: str) -> str:
    engine = appdb.open_db(settings)
    return auth.start_session(settings, engine, load_principal(engine, user_id), "portal")


def page(settings, name: str, user_id: str | None = "giulia.rossi") -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=60)
    if user_id:
        at.session_state["rl_token"] = token_for(settings, user_id)
    return at.run()


def shown(markdown: str) -> str:
    """Markdown source as it reads on the page (the backslashes that keep names literal gone)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def captions(at: AppTest) -> list[str]:
    """The page's captions as they read."""
    return [shown(c.value) for c in at.caption]


def frame_text(at: AppTest, index: int = -1) -> str:
    return at.dataframe[index].value.to_string()


def test_router_logs_in_and_shows_the_menu(ravello):
    at = AppTest.from_file(str(PAGES / "app.py"), default_timeout=60).run()
    assert at.title[0].value == "Ringledger call analytics"
    at.text_input(key="login_username").input("giulia.rossi")
    at.text_input(key="login_password").input("demo")
    at.button(key="login_submit").click().run()
    assert not at.exception
    assert at.title[0].value == "Home"
    assert "Logged in as Giulia Rossi" in [c.value for c in at.sidebar.caption]


def test_a_wrong_password_is_refused(ravello):
    at = AppTest.from_file(str(PAGES / "app.py"), default_timeout=60).run()
    at.text_input(key="login_username").input("giulia.rossi")
    at.text_input(key="login_password").input("guess")
    at.button(key="login_submit").click().run()
    assert at.error[0].value == "Unknown user name or wrong password."
    assert "rl_token" not in at.session_state


def test_a_page_without_a_session_shows_nothing(ravello):
    at = page(ravello, "app_pages/home.py", user_id=None)
    assert at.warning[0].value == "Please log in to see this page."
    assert not at.dataframe


def test_home_shows_my_calls_and_not_others(ravello):
    at = page(ravello, "app_pages/home.py")
    assert at.title[0].value == "Home"
    text = frame_text(at)
    assert "00212345***" in text  # Giulia's call, masked
    assert "00212345678" not in text
    assert "00287654" not in text  # Marco's call
    assert "Internal calls" in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Missed calls today"] in {"0", "1"}
    assert int(metrics["Calls"]) >= 1


def test_home_top_selector_is_kept(ravello):
    at = page(ravello, "app_pages/home.py", "james.carter")
    at.selectbox(key="home_rows").select(10).run()
    assert preferences.get_preferences(appdb.open_db(ravello), "james.carter").home_rows == 10


def test_reports_catalogue_and_a_grouping_with_options(ravello):
    at = page(ravello, "app_pages/reports.py", "admin")
    assert at.title[0].value == "Interactive reports"
    assert at.button(key="cat_run_cost_by_department")
    at.button(key="cat_opt_cost_by_department").click().run()
    at.multiselect(key="opt_departments").select("Finance")  # inside the form: sent with Execute
    at.button(key="opt_execute").click().run()
    assert not at.exception
    assert at.title[0].value == "Group cost by department"
    text = frame_text(at)
    assert "Finance" in text
    assert "Sales" not in text
    assert history(appdb.open_db(ravello), "admin")[0].report == "cost_by_department"
    at.text_input(key="save_name").input("Finance calls")
    at.text_input(key="save_group").input("Monthly")
    at.button(key="save_submit").click().run()
    assert at.success[0].value == "Saved as “Finance calls”."
    saved = [r for r in personal_reports(appdb.open_db(ravello), "admin") if r.name == "Finance calls"]
    assert saved[0].filters.departments == ["Finance"]


def test_reports_execute_with_defaults(ravello):
    at = page(ravello, "app_pages/reports.py", "giulia.rossi")
    at.button(key="cat_run_call_list").click().run()
    assert at.title[0].value == "Call list"
    text = frame_text(at)
    assert "00212345***" in text
    assert "902079460000" not in text


def test_dashboard_add_minimise_remove(ravello):
    at = page(ravello, "app_pages/dashboard.py", "emily.wong")
    at.button(key="dash_suggested").click().run()
    assert not at.exception
    engine = appdb.open_db(ravello)
    layout = preferences.dashboard(engine, "emily.wong")
    assert {w.widget for w in layout} == {
        "week_costs_extension",
        "status_last_7_days",
        "personal_traffic_30_days",
        "last_calls",
    }
    assert at.get("plotly_chart")
    first = layout[0]
    at.button(key=f"dash_min_{first.id}").click().run()
    assert next(w for w in preferences.dashboard(engine, "emily.wong") if w.id == first.id).minimised
    at.selectbox(key="dash_new_widget").select("top5_international").run()
    at.selectbox(key="dash_new_zone").select("right").run()
    at.button(key="dash_add").click().run()
    added = [w for w in preferences.dashboard(engine, "emily.wong") if w.widget == "top5_international"]
    assert added[0].zone == "right"
    at.button(key=f"dash_close_{first.id}").click().run()
    assert first.id not in {w.id for w in preferences.dashboard(engine, "emily.wong")}


def test_account_changes_the_language(ravello):
    at = page(ravello, "app_pages/account.py", "james.carter")
    at.selectbox(key="account_language").select("de")
    at.button(key="account_save").click().run()
    assert at.title[0].value == "Sprache und Zeitzone"
    assert preferences.person_language(ravello, appdb.open_db(ravello), "james.carter") == "de"
    preferences.set_preferences(appdb.open_db(ravello), "james.carter", language="")


def test_arabic_pages_are_translated(ravello):
    at = page(ravello, "app_pages/home.py", "layla.haddad")
    assert at.title[0].value == "الرئيسية"


@pytest.mark.parametrize(
    ("role", "modules"),
    [
        ("user", ["call_analytics", "budget_control", "phone_lock", "account"]),
        ("supervisor", ["call_analytics", "budget_control", "phone_lock", "administration", "account"]),
        ("administrator", ["call_analytics", "budget_control", "phone_lock", "administration", "account"]),
    ],
)
def test_the_menu_lists_the_modules_a_person_may_use(role, modules):
    assert list(registry.menu(Principal("x", role=role))) == modules


def test_a_registered_page_brings_its_module_into_the_menu():
    entry = registry.PageEntry("app_pages/my_budget.py", "My budgets", ":material/savings:", "budget_control")
    admin_only = registry.PageEntry(
        "app_pages/budget_admin.py", "Budgets", ":material/tune:", "budget_control", roles=registry.ADMINS
    )
    saved = list(registry.PAGES)
    try:
        registry.PAGES[:] = [p for p in registry.PAGES if p.module != "budget_control"]
        assert "budget_control" not in registry.menu(Principal("x"))
        registry.register_page(entry)
        registry.register_page(admin_only)
        assert [p.title for p in registry.menu(Principal("x"))["budget_control"]] == ["My budgets"]
        assert len(registry.menu(Principal("x", role="administrator"))["budget_control"]) == 2
        with pytest.raises(ValueError, match="unknown module"):
            registry.register_page(registry.PageEntry("app_pages/x.py", "X", "", "space_travel"))
    finally:
        registry.PAGES[:] = saved


def test_a_clicked_number_opens_every_call_with_it_without_showing_it(ravello):
    from warehouse.reports import Filters

    at = AppTest.from_file(str(PAGES / "app_pages/reports.py"), default_timeout=60)
    at.session_state["rl_token"] = token_for(ravello, "giulia.rossi")
    # what Home puts in the session when a number is clicked (the real number never reaches the browser)
    at.session_state["report_request"] = {
        "report": "call_list",
        "filters": Filters(period="all", numbers=["00212345678"]).to_json(),
        "saved_id": None,
    }
    at.run()
    assert at.title[0].value == "Call list"
    text = frame_text(at)
    assert "00212345***" in text
    assert "0298765" not in text  # her other calls are not in it
    shown_text = " ".join(captions(at)) + text
    assert "Calls with: 00212345***" in shown_text
    assert "00212345678" not in shown_text
