"""AppTests of the Budget Control and Phone Lock pages, over a small company with costed calls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboards import registry
from tests.lock_data import staff, write_calls
from warehouse import appdb, auth, budgets, enforcement, phonelock, preferences
from warehouse.access import Principal, load_principal
from warehouse.appdb import audit_log, utcnow
from warehouse.config import load_settings
from warehouse.i18n import translator

PAGES = Path(__file__).resolve().parents[2] / "dashboards" / "app_pages"
CONFIG = '[company]\ncurrency = "EUR"\ntime_zone = "Europe/Rome"\n[budgets]\nlate_cdr_minutes = 0\n'


@pytest.fixture
def company(home):
    """Anna, Bruno (Sales, 2001/2002), Carla (Support), Maria (their supervisor), root (administrator)."""
    (home / "ringledger.toml").write_text(CONFIG)
    settings = load_settings()
    english_staff(settings)
    return settings


def english_staff(settings) -> None:
    """The test company, everyone reading English (the tests compare English texts)."""
    engine = staff(settings)
    for person in ("bruno", "carla", "maria"):
        preferences.set_preferences(engine, person, language="en")


def page(settings, name: str, user_id: str) -> AppTest:
    engine = appdb.open_db(settings)
    at = AppTest.from_file(str(PAGES / name), default_timeout=60)
    at.session_state["rl_token"] = auth.start_session(settings, engine, load_principal(engine, user_id), "portal")
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, messages and captions."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in (at.success, at.info, at.warning, at.error):
        parts += [m.value for m in kind]
    return "\n".join(parts)


def actions(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [(r.actor, r.action, r.target) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]


def this_period_start(settings):
    return budgets.period_at("monthly", "Europe/Rome", utcnow(), settings.budgets.week_starts_on).starts_at


def test_the_menu_offers_each_role_its_budget_and_phone_pages():
    def titles(role: str) -> dict[str, list[str]]:
        return {module: [p.title for p in pages] for module, pages in registry.menu(Principal("x", role=role)).items()}

    user = titles("user")
    assert user["budget_control"] == ["My budgets", "Budget history"]
    assert user["phone_lock"] == ["My Phone"]
    assert "administration" not in user
    assert titles("supervisor")["administration"] == ["Budgets", "Users"]
    assert titles("administrator")["administration"][:4] == ["Budgets", "Users", "CUCM changes", "Mail outbox and log"]


# --- My Phone ---------------------------------------------------------------------------------------------


def test_my_phone_locks_and_unlocks_with_one_button(company):
    engine = appdb.open_db(company)
    at = page(company, "my_phone.py", "anna")
    assert at.title[0].value == "My Phone"
    assert "Unlocked" in texts(at)
    assert at.button(key="my_phone_toggle").label == "Lock my phone"

    at.button(key="my_phone_toggle").click().run()
    state = phonelock.lock_state(engine, "2001")
    assert state.user_locked
    assert enforcement.states(engine)["2001"].intended == enforcement.LOCKED
    assert "Locked by you" in texts(at)
    assert "Emergency numbers still work" in at.success[0].value
    assert at.button(key="my_phone_toggle").label == "Unlock my phone"

    at.button(key="my_phone_toggle").click().run()
    assert not phonelock.lock_state(engine, "2001").locked
    assert at.success[0].value == "Your phone is unlocked."
    assert actions(engine) == [("anna", "phone.user_lock", "2001"), ("anna", "phone.user_unlock", "2001")]
    assert not at.exception


def test_an_admin_lock_set_on_the_users_page_cannot_be_undone_by_the_user(company):
    engine = appdb.open_db(company)
    admin = page(company, "phone_users.py", "root")
    editor = admin.data_editor[0]
    people = editor.value["user_id"].to_list()
    # tick anna's ADMIN LOCK box, as a click in the table does
    admin.session_state["users_editor_0"] = {
        "edited_rows": {people.index("anna"): {"admin_lock": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    admin.run()
    assert admin.warning[0].value == "Set ADMIN LOCK for: anna."
    assert phonelock.lock_state(engine, "2001").locked is False  # nothing happens before Apply
    admin.text_input(key="users_reason").input("lost badge")
    admin.button(key="users_apply").click().run()
    state = phonelock.lock_state(engine, "2001")
    assert state.admin_locked
    assert state.admin_reason == "lost badge"
    assert admin.success[0].value == "ADMIN LOCK changed for: anna."
    shown = admin.data_editor[0].value
    assert shown.loc[shown["user_id"] == "anna", "admin_lock"].item()
    assert shown.loc[shown["user_id"] == "anna", "status"].item() == "ADMIN LOCK"

    user = page(company, "my_phone.py", "anna")
    assert "ADMIN LOCK" in texts(user)
    assert "Only an administrator can unlock it. Reason: lost badge" in user.info[0].value
    user.button(key="my_phone_toggle").click().run()
    assert user.error[0].value.startswith("You cannot unlock your phone.")
    assert phonelock.lock_state(engine, "2001").admin_locked
    assert ("root", "phone.admin_lock", "2001") in actions(engine)
    assert not admin.exception
    assert not user.exception


def test_my_own_unlock_leaves_the_admin_lock_in_place(company):
    engine = appdb.open_db(company)
    anna = load_principal(engine, "anna")
    phonelock.set_user_lock(company, engine, anna, True)
    phonelock.set_admin_lock(company, engine, load_principal(engine, "root"), "2001", True)
    at = page(company, "my_phone.py", "anna")
    at.button(key="my_phone_toggle").click().run()
    state = phonelock.lock_state(engine, "2001")
    assert not state.user_locked
    assert state.locked
    assert at.warning[0].value.startswith("Your own lock is removed, but the phone stays locked.")
    assert not at.exception


def test_a_spent_budget_locks_my_phone_until_the_next_period(company):
    engine = appdb.open_db(company)
    budgets.assign_budget(company, engine, load_principal(engine, "root"), "user", "anna", "monthly", "5")
    write_calls(
        company, [{"extension": "2001", "started_at": this_period_start(company) + timedelta(seconds=1), "cost": "6"}]
    )
    budgets.evaluate(company, engine)
    at = page(company, "my_phone.py", "anna")
    said = texts(at)
    assert "Locked by budget “Personal budget” until" in said
    assert "unlocks by itself when the next period starts" in said
    at.button(key="my_phone_toggle").click().run()
    assert at.error[0].value.startswith("You cannot unlock your phone.")
    assert phonelock.lock_state(engine, "2001").budget_locked
    assert not at.exception


def test_my_phone_pin_is_set_then_changed_with_the_old_one(company):
    engine = appdb.open_db(company)
    at = page(company, "my_phone.py", "bruno")
    assert at.button(key="pin_submit").label == "Set my PIN"
    at.text_input(key="pin_new").input("5082")
    at.text_input(key="pin_repeat").input("5082")
    at.button(key="pin_submit").click().run()
    assert at.success[0].value == "Your PIN is set."
    assert phonelock.verify_pin(company, engine, "bruno", "5082").ok

    at = page(company, "my_phone.py", "bruno")
    at.text_input(key="pin_old").input("1111")
    at.text_input(key="pin_new").input("7391")
    at.text_input(key="pin_repeat").input("7391")
    at.button(key="pin_submit").click().run()
    assert at.error[0].value == "The current PIN is wrong. 4 more wrong PINs lock PIN entry for a while."
    at.text_input(key="pin_old").input("5082")
    at.text_input(key="pin_new").input("1234")
    at.text_input(key="pin_repeat").input("1234")
    at.button(key="pin_submit").click().run()
    assert at.error[0].value.startswith("Choose a PIN that is not a run")
    at.text_input(key="pin_old").input("5082")
    at.text_input(key="pin_new").input("7391")
    at.text_input(key="pin_repeat").input("7391")
    at.button(key="pin_submit").click().run()
    assert at.success[0].value == "Your PIN is changed."
    assert phonelock.verify_pin(company, engine, "bruno", "7391").ok
    assert ("bruno", "phone.pin_set", "bruno") in actions(engine)
    assert not at.exception


# --- Users (administrators, supervisors) ----------------------------------------------------------------------


def test_users_are_filtered_and_a_supervisor_sees_only_their_people(company):
    at = page(company, "phone_users.py", "root")
    at.text_input(key="users_name").input("berg").run()
    assert at.data_editor[0].value["user_id"].to_list() == ["anna"]
    at.text_input(key="users_name").input("").run()
    at.text_input(key="users_extension").input("2003").run()
    assert at.data_editor[0].value["user_id"].to_list() == ["carla"]

    maria = page(company, "phone_users.py", "maria")
    assert sorted(maria.data_editor[0].value["user_id"]) == ["anna", "bruno", "carla"]  # not root (IT)
    plain = page(company, "phone_users.py", "anna")
    assert plain.error[0].value == "Only administrators and supervisors may open this page."
    assert not plain.data_editor
    assert not at.exception


def test_a_pin_reset_shows_the_new_pin_once(company):
    engine = appdb.open_db(company)
    at = page(company, "phone_users.py", "root")
    at.selectbox(key="users_pin_user").select("carla")
    at.button(key="users_pin_submit").click().run()
    assert "Reset the phone PIN of carla?" in at.warning[0].value
    assert not phonelock.has_pin(engine, "carla")
    at.button(key="users_pin_yes").click().run()
    shown = at.success[0].value
    pin = shown.split(" is ")[1][:4]
    assert phonelock.verify_pin(company, engine, "carla", pin).ok
    assert ("root", "phone.pin_reset", "carla") in actions(engine)
    at.run()
    assert not any(pin in m.value for m in at.success)  # shown once only

    at.selectbox(key="users_pin_user").select("carla")
    at.text_input(key="users_pin_value").input("4826")
    at.button(key="users_pin_submit").click().run()
    at.button(key="users_pin_yes").click().run()
    assert "The new PIN of carla is 4826." in at.success[0].value
    assert phonelock.verify_pin(company, engine, "carla", "4826").ok
    assert not at.exception


# --- My budgets and History ------------------------------------------------------------------------------------


def test_my_budgets_shows_the_remaining_amount_of_my_costed_calls(company):
    engine = appdb.open_db(company)
    root = load_principal(engine, "root")
    budgets.assign_budget(company, engine, root, "user", "anna", "monthly", "10.00")
    budgets.assign_budget(company, engine, root, "department", "Sales", "monthly", "100")
    start = this_period_start(company) + timedelta(seconds=1)
    write_calls(
        company,
        [
            {"extension": "2001", "started_at": start, "cost": Decimal("3.50")},
            {"extension": "2001", "started_at": start, "cost": Decimal("2.25")},
            {"extension": "2002", "started_at": start, "cost": Decimal("20")},  # Bruno: only the group's budget
            {"extension": "2001", "started_at": start - timedelta(days=3), "cost": Decimal("50")},  # last month
        ],
    )
    budgets.evaluate(company, engine)
    at = page(company, "my_budgets.py", "anna")
    assert [h.value for h in at.subheader] == ["Personal budget", "Department Sales"]
    metrics = [(m.label, m.value) for m in at.metric]
    assert metrics[:3] == [("Budget", "€10.00"), ("Spent", "€5.75"), ("Remaining", "€4.25")]
    assert metrics[4:7] == [("Budget", "€100.00"), ("Spent", "€25.75"), ("Remaining", "€74.25")]
    assert at.progress[0].value == 57
    assert "Phone 2001 — :material/lock_open: Unlocked" in texts(at)

    nobody = page(company, "my_budgets.py", "root")
    assert nobody.info[0].value == "No budget applies to you: your calls are not limited."


def test_my_budgets_shows_the_carry_over(company):
    engine = appdb.open_db(company)
    budgets.assign_budget(
        company, engine, load_principal(engine, "root"), "user", "anna", "monthly", "10", carry_over=True
    )
    start = this_period_start(company)
    before = start - timedelta(days=3)
    write_calls(
        company,
        [
            {"extension": "2001", "started_at": before, "cost": Decimal("4")},
            {"extension": "2001", "started_at": start + timedelta(seconds=1), "cost": Decimal("3.50")},
        ],
    )
    budgets.evaluate(company, engine, now=before + timedelta(hours=1))  # last month's period
    budgets.evaluate(company, engine)  # closes it: 6 carried over
    at = page(company, "my_budgets.py", "anna")
    metrics = dict((m.label, m.value) for m in at.metric)
    assert (metrics["Budget"], metrics["Spent"], metrics["Remaining"]) == ("€16.00", "€3.50", "€12.50")
    assert "Includes €6.00 carried over from the previous period (budget €10.00)." in texts(at)


def test_budget_history_shows_every_action_and_filters_by_budget(company):
    engine = appdb.open_db(company)
    root = load_principal(engine, "root")
    mine = budgets.assign_budget(company, engine, root, "user", "anna", "monthly", "5")
    budgets.assign_budget(company, engine, root, "user", "bruno", "monthly", "5")
    group = budgets.assign_budget(company, engine, root, "department", "Sales", "monthly", "500")
    start = this_period_start(company) + timedelta(seconds=1)
    write_calls(company, [{"extension": "2001", "started_at": start, "cost": "6"}])
    write_calls(company, [{"extension": "2002", "started_at": start, "cost": "7"}])
    budgets.evaluate(company, engine)

    at = page(company, "budget_history.py", "anna")
    table = at.dataframe[0].value
    assert set(table["Budget"]) == {"Personal budget", "Department Sales"}  # not Bruno's budget
    locks = table[table["Action"] == "Phone locked"]
    assert locks["What happened"].to_list() == ["Extension 2001 locked: €6.00 spent"]
    assert "Notification sent" in set(table["Action"])
    at.selectbox(key="history_budget").select(group).run()
    assert set(at.dataframe[0].value["Action"]) == {"Budget assigned"}
    at.selectbox(key="history_budget").select(mine).run()
    assert "Phone locked" in set(at.dataframe[0].value["Action"])

    admin = page(company, "budget_history.py", "root")
    persons = set(admin.dataframe[0].value["Person"])
    assert {"anna", "bruno"} <= persons
    admin.multiselect(key="history_kinds").select("lock").run()
    assert sorted(admin.dataframe[0].value["Extension"]) == ["2001", "2002"]
    assert not at.exception
    assert not admin.exception


# --- Budgets (administrators) --------------------------------------------------------------------------------------


def test_a_budget_created_on_the_admin_page_is_assigned(company):
    engine = appdb.open_db(company)
    at = page(company, "budget_admin.py", "root")
    assert at.info[0].value == "No budget is assigned yet."
    at.selectbox(key="bud_subject").select("anna")
    at.text_input(key="bud_amount").input("-3")
    at.button(key="bud_save").click().run()
    assert at.error[0].value == "Enter an amount greater than zero, for example 150 or 99.50."
    assert budgets.budgets(engine) == []

    at.text_input(key="bud_amount").input("25.50")
    at.text_input(key="bud_currency").input("EU")
    at.button(key="bud_save").click().run()
    assert at.error[0].value == "Enter a three-letter currency code such as EUR."
    assert budgets.budgets(engine) == []

    at.text_input(key="bud_currency").input("eur")
    at.text_input(key="bud_thresholds").input("50, 90, 100")
    at.checkbox(key="bud_carry").check()
    at.button(key="bud_save").click().run()
    assert at.success[0].value == "Budget saved."
    (made,) = budgets.budgets(engine)
    assert (made.scope, made.subject, made.period, made.amount, made.currency) == (
        "user",
        "anna",
        "monthly",
        Decimal("25.50"),
        "EUR",
    )
    assert made.carry_over
    assert made.thresholds == (50, 90, 100)
    assert made.time_zone == "Europe/Rome"
    overview = at.dataframe[0].value
    assert overview["Budget amount"].to_list() == ["€25.50"]
    assert at.dataframe[1].value["Thresholds"].to_list() == ["50%, 90%, 100%"]

    # change it: the form holds the budget just saved
    assert at.selectbox(key="bud_pick").value == made.id
    at.text_input(key="bud_amount").input("30")
    at.radio(key="bud_period").set_value("weekly")
    at.button(key="bud_save").click().run()
    (changed,) = budgets.budgets(engine)
    assert (changed.id, changed.amount, changed.period) == (made.id, Decimal("30"), "weekly")

    at.button(key="bud_remove").click().run()
    assert "Remove the budget “Personal budget” of anna?" in at.warning[0].value
    at.button(key="bud_remove_yes").click().run()
    assert budgets.budgets(engine) == []
    assert at.success[0].value == "Budget removed; the phones it held locked are released."
    assert [a for _, a, _ in actions(engine)] == ["budget.assign", "budget.assign", "budget.remove"]
    assert not at.exception


def test_a_group_budget_and_what_supervisors_see(company):
    engine = appdb.open_db(company)
    at = page(company, "budget_admin.py", "root")
    at.selectbox(key="bud_scope").select("department").run()
    at.selectbox(key="bud_subject").select("Support")
    at.text_input(key="bud_amount").input("80")
    at.button(key="bud_save").click().run()
    (made,) = budgets.budgets(engine)
    assert (made.scope, made.subject) == ("department", "Support")

    budgets.assign_budget(company, engine, load_principal(engine, "root"), "department", "IT", "weekly", "60")
    maria = page(company, "budget_admin.py", "maria")
    assert maria.dataframe[0].value["For"].to_list() == ["Support"]  # not IT: not her people
    assert maria.info[-1].value == "Only administrators assign budgets."
    assert not maria.text_input
    anna = page(company, "budget_admin.py", "anna")
    assert anna.error[0].value == "Only administrators and supervisors may open this page."
    assert not at.exception


# --- CUCM changes ------------------------------------------------------------------------------------------------


@pytest.fixture
def axl_company(home, cucm_double, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_AXL_PASSWORD", cucm_double.password)
    (home / "ringledger.toml").write_text(
        CONFIG + f'[cucm]\ncluster = "StandAloneCluster"\naxl_url = "{cucm_double.url}"\n'
        f'axl_user = "{cucm_double.user}"\naxl_version = "{cucm_double.version}"\nenforcement = "axl"\n'
        'blocking_css = "CSS_LOCKED"\nline_partition = "PT_LINES"\nretry_base_seconds = 300\n'
    )
    settings = load_settings()
    english_staff(settings)
    return settings


def test_cucm_changes_lists_what_failed_and_retries_now(axl_company, cucm_double):
    engine = appdb.open_db(axl_company)
    cucm_double.fail_next(1)
    phonelock.set_admin_lock(axl_company, engine, load_principal(engine, "root"), "2002", True)
    at = page(axl_company, "cucm_changes.py", "root")
    row = at.dataframe[0].value.iloc[0]
    assert (row["Extension"], row["User"], row["Intended"], row["Applied"]) == ("2002", "bruno", "Locked", "Never")
    assert "HTTP 503" in row["Last error"]
    assert cucm_double.lines()["2002"] == "CSS_INTERNATIONAL"

    at.button(key="cucm_retry").click().run()
    assert at.success[0].value == "1 of 1 change is now in effect."
    assert cucm_double.lines()["2002"] == "CSS_LOCKED"
    assert enforcement.problems(engine) == []
    at.run()
    assert at.success[0].value == "Every lock change is in effect on CUCM."
    assert ("root", "phone.cucm_retry", "2002") in actions(engine)
    assert page(axl_company, "cucm_changes.py", "maria").error[0].value == "Only administrators may open this page."
    assert not at.exception


def test_cucm_changes_in_record_mode_has_nothing_pending(company):
    at = page(company, "cucm_changes.py", "root")
    assert "sends nothing to CUCM" in at.info[0].value
    assert at.success[0].value == "Every lock change is in effect on CUCM."


@pytest.mark.parametrize("language", ["de", "fr", "es", "ar", "pl", "it"])
def test_every_budget_and_phone_page_draws_in_every_language(company, language):
    engine = appdb.open_db(company)
    root = load_principal(engine, "root")
    budgets.assign_budget(company, engine, root, "user", "anna", "monthly", "5", carry_over=True)
    budgets.assign_budget(company, engine, root, "department", "Sales", "weekly", "50")
    write_calls(
        company, [{"extension": "2001", "started_at": this_period_start(company) + timedelta(seconds=1), "cost": "6"}]
    )
    budgets.evaluate(company, engine)
    phonelock.set_admin_lock(company, engine, root, "2002", True, "test")
    for person in ("anna", "root"):
        preferences.set_preferences(engine, person, language=language)
    tr = translator(language)
    for name, person, title in [
        ("my_phone.py", "anna", "My Phone"),
        ("my_budgets.py", "anna", "My budgets"),
        ("budget_history.py", "anna", "Budget history"),
        ("budget_admin.py", "root", "Budgets"),
        ("phone_users.py", "root", "Users"),
        ("cucm_changes.py", "root", "CUCM changes"),
    ]:
        at = page(company, name, person)
        assert at.title[0].value == tr.gettext(title)
        assert "ADMIN LOCK" not in texts(at)  # every status is in the reader's language
