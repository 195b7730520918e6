"""AppTests of the administration pages, each on its own copy of the small demo data home."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import warehouse
from tests.admin_home import (
    BROKEN_LINE,
    EMPLOYEE,
    UNKNOWN_EXTENSION,
    UNLISTED_GATEWAY,
    admin_home,  # noqa: F401
    admin_template,  # noqa: F401
)
from warehouse import appdb, auth, directory, runtime_settings
from warehouse.access import load_principal
from warehouse.audit import query_audit
from warehouse.config import load_settings
from warehouse.directory import unknown_extensions

PAGES = Path(__file__).resolve().parents[2] / "dashboards" / "app_pages"
ADMIN_PAGES = (
    "data_health",
    "tariff_admin",
    "sites_gateways",
    "people",
    "directory_sync",
    "audit_log",
    "admin_settings",
)


def open_page(name: str, user: str = "admin") -> AppTest:
    settings = load_settings()
    engine = appdb.open_db(settings)
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    at.session_state["rl_token"] = auth.start_session(settings, engine, load_principal(engine, user), "portal")
    at.run()
    assert not at.exception, at.exception
    return at


def said(at: AppTest) -> str:
    """Everything the page says in text, messages, captions and code."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [c.value for c in at.code]
    for kind in (at.success, at.info, at.warning, at.error):
        parts += [m.value for m in kind]
    return "\n".join(parts)


def frame_text(at: AppTest, index: int = 0) -> str:
    return at.dataframe[index].value.to_csv(index=False)


@pytest.fixture
def data(admin_home):  # noqa: F811
    """This test's copy of the administration data home, and what it holds."""
    return admin_home


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_only_administrators_may_open_the_administration_pages(data, name):
    at = open_page(name, EMPLOYEE)
    assert "Only administrators may open this page." in said(at)
    assert not at.dataframe


def test_data_health_files_and_a_rejected_line_opened_in_full(data):
    home, facts = data
    at = open_page("data_health")
    assert facts["broken_file"] in frame_text(at)  # the ledger, newest first
    at.checkbox(key="dh_files_rejects").check().run()
    assert frame_text(at).count("\n") == 2  # the header and the one file with a rejected line

    at.segmented_control(key="dh_section").set_value("rejects").run()
    assert "found 100" in frame_text(at)
    at.selectbox(key="dh_rej_open").select_index(0).run()
    assert not at.exception
    archived = next((home / "archive").rglob(facts["broken_file"])).read_text().split("\n")[BROKEN_LINE - 1]
    assert at.code[0].value == archived
    assert f"line {BROKEN_LINE}" in said(at)


def test_data_health_feed_and_pipelines(data):
    at = open_page("data_health")
    at.segmented_control(key="dh_section").set_value("feed").run()
    feed = frame_text(at)
    assert "RavelloCluster" in feed
    assert "TestCluster" in feed
    at.segmented_control(key="dh_section").set_value("pipelines").run()
    assert "does not answer" in said(at)


def test_an_unknown_extension_is_given_to_a_person_in_one_click(data):
    at = open_page("data_health")
    at.segmented_control(key="dh_section").set_value("unknown").run()
    assert UNKNOWN_EXTENSION in frame_text(at)
    at.selectbox(key="dh_unk_extension").select(UNKNOWN_EXTENSION).run()
    at.text_input(key="dh_unk_search").input(EMPLOYEE).run()
    at.selectbox(key="dh_unk_person").select(EMPLOYEE).run()
    at.button(key="dh_unk_assign").click().run()
    assert f"Extension {UNKNOWN_EXTENSION} now belongs to {EMPLOYEE}." in said(at)
    assert UNKNOWN_EXTENSION not in {u.extension for u in unknown_extensions(load_settings())}


def test_an_unknown_extension_gets_a_new_person(data):
    at = open_page("data_health")
    at.segmented_control(key="dh_section").set_value("unknown").run()
    at.selectbox(key="dh_unk_extension").select(UNKNOWN_EXTENSION).run()
    at.text_input(key="dh_new_username").input("lobby").run()
    at.text_input(key="dh_new_name").input("Lobby phone").run()
    at.button(key="dh_new_create").click().run()
    assert f"lobby was created with extension {UNKNOWN_EXTENSION}." in said(at)
    principal = load_principal(appdb.open_db(load_settings()), "lobby")
    assert principal.extensions == (UNKNOWN_EXTENSION,)


def test_an_unlisted_gateway_is_added_to_the_inventory(data):
    at = open_page("data_health")
    at.segmented_control(key="dh_section").set_value("devices").run()
    assert UNLISTED_GATEWAY in frame_text(at)
    at.selectbox(key="dh_dev_pick").select(UNLISTED_GATEWAY).run()
    at.text_input(key="dh_dev_label").input("Old Milano line")
    at.button(key="dh_dev_add").click().run()
    assert f"{UNLISTED_GATEWAY} is in the inventory now." in said(at)
    device = load_settings().device(UNLISTED_GATEWAY)
    assert (device.label, device.site) == ("Old Milano line", "Milano")  # the site most of its callers are at
    assert "Every gateway and trunk that carried calls is in the inventory." in said(at)


def test_tariffs_plans_explain_rerate_and_whatif(data):
    at = open_page("tariff_admin")
    assert [h.value for h in at.subheader][:3] == ["it-carrier", "uk-carrier", "us-carrier"]

    settings = load_settings()
    con = warehouse.connect(settings)
    call_id, cost = con.execute(
        "select call_id, cost from calls where cost > 0 and tariff_plan = 'uk-carrier' order by call_id limit 1"
    ).fetchall()[0]
    at.segmented_control(key="tar_section").set_value("explain").run()
    at.text_input(key="tar_call_id").input(call_id).run()
    facts = frame_text(at)
    assert "uk-carrier" in facts
    assert "Billed seconds" in facts
    assert "Rounding" in facts
    assert f"€{cost:.2f}" in said(at)

    at.segmented_control(key="tar_section").set_value("rerate").run()
    day = date.today() - timedelta(days=3)
    at.date_input(key="tar_rerate_from").set_value(day)
    at.date_input(key="tar_rerate_to").set_value(day)
    at.button(key="tar_rerate_go").click().run()
    assert not at.exception
    assert "Re-rated" in said(at)
    table = at.dataframe[0].value
    assert list(table.columns)[:6] == ["Cost centre", "Department", "Calls", "Before", "After", "Change"]
    assert table.iloc[-1]["Change"] == "€0.00"  # nothing changed in the tariffs
    assert query_audit(appdb.open_db(settings), action="calls.reprocessed").total == 1

    at.segmented_control(key="tar_section").set_value("whatif").run()
    at.selectbox(key="tar_whatif_plan").select("uk-carrier").run()
    at.button(key="tar_whatif_go").click().run()
    assert not at.exception
    assert "Under uk-carrier" in at.dataframe[0].value.columns
    assert at.get("plotly_chart")


def test_a_version_is_ended_from_the_plans(data):
    at = open_page("tariff_admin")
    at.selectbox(key="tar_close_plan").select("us-carrier").run()
    at.selectbox(key="tar_close_version").select("2025")
    at.date_input(key="tar_close_day").set_value(date(2027, 1, 1))
    at.button(key="tar_close_submit").click().run()
    assert "Version 2025 of us-carrier ends on" in said(at)
    assert "1/1/27" in frame_text(at, 2)


def test_a_sites_time_zone_is_changed_and_a_bad_range_is_refused(data):
    at = open_page("sites_gateways")
    at.selectbox(key="sg_site_pick").select("New York").run()
    at.selectbox(key="sg_site_zone").select("America/Chicago")
    at.button(key="sg_site_save").click().run()
    assert "Site New York saved." in said(at)
    assert load_settings().site("New York").time_zone == "America/Chicago"

    at.text_input(key="sg_site_ranges").input("6000-699")
    at.button(key="sg_site_save").click().run()
    assert "sites[New York].internal_ranges" in said(at)
    assert load_settings().site("New York").internal_ranges == ["6000-6999"]

    at.button(key="sg_site_reset").click().run()
    assert load_settings().site("New York").time_zone == "America/New_York"
    assert at.selectbox(key="sg_site_zone").value == "America/New_York"


def test_a_device_is_added_then_removed(data):
    at = open_page("sites_gateways")
    at.segmented_control(key="sg_section").set_value("devices").run()
    at.selectbox(key="sg_dev_pick").select("").run()
    at.text_input(key="sg_dev_name").input("ROM-GW-*")
    at.text_input(key="sg_dev_label").input("Roma PSTN")
    at.selectbox(key="sg_dev_site").select("Milano")
    at.selectbox(key="sg_dev_plan").select("it-carrier")
    at.button(key="sg_dev_save").click().run()
    assert "Device ROM-GW-* saved." in said(at)
    assert load_settings().device("rom-gw-03").tariff_plan == "it-carrier"
    at.button(key="sg_dev_remove").click().run()
    at.button(key="sg_dev_rm_yes").click().run()
    assert load_settings().device("rom-gw-03") is None


def test_people_role_scopes_switch_off_and_password(data):
    at = open_page("people")
    at.selectbox(key="ppl_department").select("Finance").run()
    listing = at.dataframe[0].value
    assert set(listing["Department"]) == {"Finance"}
    at.text_input(key="ppl_search").input(EMPLOYEE).run()
    at.selectbox(key="ppl_department").select("").run()
    at.selectbox(key="ppl_pick").select(EMPLOYEE).run()
    at.selectbox(key=f"ppl_new_role_{EMPLOYEE}").select("supervisor")
    at.button(key="ppl_role_save").click().run()
    assert f"{EMPLOYEE} is now: Supervisor." in said(at)
    at.multiselect(key=f"ppl_scope_departments_{EMPLOYEE}").select("Finance")
    at.button(key="ppl_scope_save").click().run()
    engine = appdb.open_db(load_settings())
    principal = load_principal(engine, EMPLOYEE)
    assert (principal.role, principal.departments) == ("supervisor", ("Finance",))

    at.text_input(key="ppl_password").input("a-new-secret")
    at.text_input(key="ppl_password_again").input("a-new-secret")
    at.button(key="ppl_password_save").click().run()
    assert auth.login(load_settings(), engine, EMPLOYEE, "a-new-secret").ok

    at.button(key="ppl_disable").click().run()
    assert f"{EMPLOYEE} is switched off and logged out." in said(at)
    assert not auth.login(load_settings(), engine, EMPLOYEE, "a-new-secret").ok
    actions = {e.action for e in query_audit(engine, actor="admin", target=EMPLOYEE).entries}
    assert {"user.role", "user.scope", "user.password", "user.active"} <= actions


def test_a_log_in_lock_is_cleared(data):
    settings = load_settings()
    engine = appdb.open_db(settings)
    for _attempt in range(settings.login.max_failures):
        auth.login(settings, engine, EMPLOYEE, "wrong")
    assert auth.locked_until(engine, EMPLOYEE) is not None
    at = open_page("people")
    at.text_input(key="ppl_search").input(EMPLOYEE).run()
    at.selectbox(key="ppl_pick").select(EMPLOYEE).run()
    assert "Log-in locked after failed attempts" in said(at)
    at.button(key="ppl_unlock").click().run()
    assert auth.locked_until(engine, EMPLOYEE) is None
    assert auth.login(settings, engine, EMPLOYEE, "demo").ok


def test_directory_sync_status_without_a_directory_server(data, tmp_path):
    at = open_page("directory_sync")
    assert "No directory server is configured" in said(at)
    assert "No sync or import has run yet." in said(at)
    people = tmp_path / "staff.csv"
    people.write_text("username,display_name,role\nlobby,Lobby phone,user\nbad name,Someone,user\n")
    directory.import_csv(appdb.open_db(load_settings()), people, "admin")
    at.run()
    history = at.dataframe[0].value
    assert history.iloc[0]["Source"] == "File import"
    assert history.iloc[0]["Result"] == "Done with warnings"
    assert "staff.csv: line 3: username 'bad name' must be one word" in said(at)
    assert not [b for b in at.button if b.key == "dir_sync"]


def test_audit_log_filters(data):
    settings = load_settings()
    engine = appdb.open_db(settings)
    runtime_settings.change(settings, engine, "admin", {"privacy.mask_digits.user": 5})
    auth.login(settings, engine, EMPLOYEE, "wrong")
    at = open_page("audit_log")
    at.selectbox(key="aud_action").select("settings").run()
    table = at.dataframe[0].value
    assert list(table["What"]) == ["settings.changed"]
    assert list(table["To whom or what"]) == ["privacy.mask_digits.user"]
    at.selectbox(key="aud_action").select("").run()
    at.text_input(key="aud_actor").input(EMPLOYEE).run()
    assert set(at.dataframe[0].value["What"]) == {"login.failed"}
    at.text_input(key="aud_actor").input("nobody").run()
    assert "No entry matches these filters." in said(at)


def test_settings_are_saved_refused_by_field_and_put_back(data):
    at = open_page("admin_settings")
    at.number_input(key="set_mask_user").set_value(5)
    at.button(key="set_privacy_save").click().run()
    assert not at.exception
    assert load_settings().privacy.mask_digits["user"] == 5
    assert "Saved." in said(at)

    at.number_input(key="set_session_gadget").set_value(60)
    at.button(key="set_sessions_save").click().run()
    assert load_settings().sessions.minutes["gadget"] == 60

    at.text_input(key="set_hours").input("18:00-08:00")
    at.button(key="set_health_save").click().run()
    assert "data_health.working_hours: working_hours '18:00-08:00' must look like 08:00-18:00" in said(at)
    assert load_settings().data_health.working_hours == "08:00-18:00"

    at.radio(key="set_enforcement").set_value("axl")
    at.button(key="set_lock_save").click().run()
    assert 'enforcement = "axl" needs axl_url and axl_user' in said(at)

    stored = at.dataframe[0].value
    assert set(stored["Setting"]) == {"privacy.mask_digits.user", "sessions.minutes.gadget"}
    at.multiselect(key="set_reset_paths").select("privacy.mask_digits.user").run()
    at.button(key="set_reset").click().run()
    assert load_settings().privacy.mask_digits["user"] == 3


def test_reports_offer_administrators_full_numbers_audited(data):
    at = open_page("reports")
    at.button(key="cat_run_call_list").click().run()
    assert at.toggle(key="rep_unmask")
    at.toggle(key="rep_unmask").set_value(True).run()
    assert "Full numbers are shown. This view is recorded in the audit log." in said(at)
    engine = appdb.open_db(load_settings())
    assert query_audit(engine, action="numbers.unmasked").entries[0].target == "report call_list"

    employee = open_page("reports", EMPLOYEE)
    employee.button(key="cat_run_call_list").click().run()
    assert not [t for t in employee.toggle if t.key == "rep_unmask"]
