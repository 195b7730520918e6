"""The portal's API tokens page: a token is shown once, listed without its secret, and revoked."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards import registry
from warehouse import api_tokens, appdb, auth
from warehouse.access import load_principal

PAGE = Path(__file__).resolve().parents[2] / "dashboards" / "app_pages" / "api_tokens.py"


def open_page(settings, user_id: str) -> AppTest:
    engine = appdb.open_db(settings)
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["rl_token"] = auth.start_session(settings, engine, load_principal(engine, user_id), "portal")
    return at.run()


def test_the_page_is_in_the_account_menu_for_everyone(ravello):
    engine = appdb.open_db(ravello)
    menu = registry.menu(load_principal(engine, "emily.wong"))
    assert "app_pages/api_tokens.py" in [p.script for p in menu["account"]]


def test_create_shows_the_token_once_and_revoke_ends_it(ravello):
    engine = appdb.open_db(ravello)
    at = open_page(ravello, "emily.wong")
    assert at.title[0].value == "API tokens"
    assert "You have no API tokens." in [i.value for i in at.info]
    at.text_input(key="token_name").input("spreadsheet")
    at.button(key="token_create").click().run()
    secret = at.code[0].value
    assert secret.startswith("rl_")
    assert api_tokens.token_principal(engine, secret)[0].user_id == "emily.wong"
    listing = at.dataframe[0].value.to_string()
    assert "spreadsheet" in listing
    assert secret not in listing
    at.run()
    assert not at.code  # shown once only
    at.button(key="token_revoke_submit").click().run()
    assert api_tokens.token_principal(engine, secret) is None
    assert "Revoked" in at.dataframe[0].value.to_string()


def test_an_administrator_sees_and_revokes_anyones_token(ravello):
    engine = appdb.open_db(ravello)
    _info, secret = api_tokens.create_token(ravello, engine, load_principal(engine, "james.carter"), "report bot")
    user_page = open_page(ravello, "layla.haddad")
    assert "report bot" not in "".join(f.value.to_string() for f in user_page.dataframe)
    at = open_page(ravello, "admin")
    assert "report bot" in at.dataframe[-1].value.to_string()
    choice = at.selectbox(key="token_revoke_all_choice")
    target = next(o for o in choice.options if "report bot" in o)
    choice.select(next(i for i in api_tokens.list_tokens(engine) if f"{i.name} ({i.shown})" in target).id).run()
    at.button(key="token_revoke_all_submit").click().run()
    assert api_tokens.token_principal(engine, secret) is None
