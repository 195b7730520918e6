"""The IP phone service through Flask's test client: every answer is a well-formed Cisco XML object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from lxml import etree

from phone_xml import create_app
from tests.lock_data import staff, write_calls
from warehouse import ipphone, phonelock
from warehouse.access import load_principal
from warehouse.config import load_settings

ANNA_PHONE = "SEP00AABBCC2001"
BRUNO_PHONE = "SEP00AABBCC2002"

# What each object may hold (element names are case sensitive; nothing else is allowed).
STRUCTURE = {
    "CiscoIPPhoneMenu": {"Title", "Prompt", "MenuItem", "SoftKeyItem"},
    "CiscoIPPhoneInput": {"Title", "Prompt", "URL", "InputItem", "SoftKeyItem"},
    "CiscoIPPhoneText": {"Title", "Prompt", "Text", "SoftKeyItem"},
    "CiscoIPPhoneExecute": {"ExecuteItem"},
}
CHILDREN = {
    "MenuItem": ["Name", "URL"],
    "SoftKeyItem": ["Name", "URL", "Position"],
    "InputItem": ["DisplayName", "QueryStringParam", "DefaultValue", "InputFlags"],
}
LIMITS = {"Title": 32, "Prompt": 32, "Text": 4000, "DisplayName": 32}


def parse(resp) -> etree._Element:
    """Check the HTTP envelope and the object's structure; return the root element."""
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(resp.data)
    assert root.tag in STRUCTURE
    for child in root:
        assert child.tag in STRUCTURE[root.tag]
        if child.tag in CHILDREN:
            assert [c.tag for c in child] == CHILDREN[child.tag]
        if child.tag in LIMITS:
            assert len(child.text or "") <= LIMITS[child.tag]
    for name in root.iter("Name"):
        assert len(name.text) <= ipphone.NAME_MAX
    for url in root.iter("URL"):
        assert len(url.text) <= ipphone.URL_MAX
        assert url.text.startswith(("http://", "SoftKey:"))
    if root.tag == "CiscoIPPhoneMenu":
        assert root.find("Title") is not None
        assert 1 <= len(root.findall("MenuItem")) <= ipphone.MENU_ITEMS_MAX
    if root.tag == "CiscoIPPhoneInput":
        assert root.find("URL") is not None
        assert 1 <= len(root.findall("InputItem")) <= ipphone.INPUT_ITEMS_MAX
    if root.tag == "CiscoIPPhoneText":
        assert root.find("Text") is not None
    return root


def follow(client, url: str, **params):
    """GET an absolute URL from a phone object, adding input fields as the phone does."""
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()} | params
    return client.get(parsed.path, query_string=query)


@pytest.fixture
def service(settings):
    engine = staff(settings)
    when = datetime(2026, 1, 5, 9, tzinfo=UTC)
    write_calls(
        settings,
        [
            {"extension": "2001", "started_at": when, "cost": Decimal("1"), "device": ANNA_PHONE},
            {"extension": "2002", "started_at": when, "cost": Decimal("1"), "device": BRUNO_PHONE},
        ],
    )
    root = load_principal(engine, "root")
    phonelock.set_pin(settings, engine, root, "anna", "4826")
    phonelock.set_pin(settings, engine, root, "bruno", "5190")
    app = create_app(settings)
    app.testing = True
    return app.test_client(), settings, engine


def test_menu_is_found_by_device_name_and_offers_lock_pin_and_status(service):
    client, _, engine = service
    root = parse(client.get("/phone/menu", query_string={"name": ANNA_PHONE.lower()}))
    assert root.tag == "CiscoIPPhoneMenu"
    assert root.findtext("Title") == "Phone lock"
    assert root.findtext("Prompt") == "Phone unlocked"
    items = [(i.findtext("Name"), urlparse(i.findtext("URL"))) for i in root.findall("MenuItem")]
    assert [name for name, _ in items] == ["Lock phone", "Change PIN", "Status"]
    assert [u.path for _, u in items] == ["/phone/lock", "/phone/pin", "/phone/status"]
    assert all(parse_qs(u.query)["name"] == [ANNA_PHONE] for _, u in items)
    assert [k.findtext("URL") for k in root.findall("SoftKeyItem")] == ["SoftKey:Select", "SoftKey:Exit"]
    owner = phonelock.device_owner(service[1], engine, ANNA_PHONE)
    assert (owner.extension, owner.user_id, owner.source) == ("2001", "anna", "cdr")


def test_lock_and_unlock_with_the_pin(service):
    client, _, engine = service
    form = parse(client.get("/phone/lock", query_string={"name": ANNA_PHONE}))
    assert form.tag == "CiscoIPPhoneInput"
    item = form.find("InputItem")
    assert (item.findtext("QueryStringParam"), item.findtext("InputFlags")) == ("pin", "NP")
    resp = follow(client, form.findtext("URL"), pin="4826")
    done = parse(resp)
    assert done.tag == "CiscoIPPhoneText"
    assert done.findtext("Text").startswith("Your phone is locked.")
    assert resp.headers["Expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"  # not kept in the phone's history
    assert phonelock.lock_state(engine, "2001").user_locked
    menu = parse(client.get("/phone/menu", query_string={"name": ANNA_PHONE}))
    assert menu.findtext("Prompt") == "Phone locked"
    assert menu.find("MenuItem").findtext("Name") == "Unlock phone"
    form = parse(follow(client, menu.find("MenuItem").findtext("URL")))
    done = parse(follow(client, form.findtext("URL"), pin="4826"))
    assert done.findtext("Text") == "Your phone is unlocked."
    assert not phonelock.lock_state(engine, "2001").locked


def test_an_admin_lock_stays_when_the_user_unlocks_on_the_phone(service):
    client, settings, engine = service
    phonelock.set_admin_lock(settings, engine, load_principal(engine, "root"), "2001", True)
    done = parse(client.get("/phone/unlock/done", query_string={"name": ANNA_PHONE, "pin": "4826"}))
    assert "only an administrator can unlock it" in done.findtext("Text")
    assert done.findtext("Prompt") == "Phone locked"
    assert phonelock.lock_state(engine, "2001").admin_locked


def test_wrong_pins_lock_the_pin_entry_out(service):
    client, settings, engine = service
    for left in range(settings.phone_lock.max_pin_failures - 1, 0, -1):
        done = parse(client.get("/phone/lock/done", query_string={"name": ANNA_PHONE, "pin": "0000"}))
        assert done.findtext("Text") == f"Wrong PIN. Attempts left: {left}."
    done = parse(client.get("/phone/lock/done", query_string={"name": ANNA_PHONE, "pin": "0000"}))
    assert done.findtext("Text").startswith("Too many wrong PINs. Try again after ")
    done = parse(client.get("/phone/lock/done", query_string={"name": ANNA_PHONE, "pin": "4826"}))
    assert done.findtext("Text").startswith("Too many wrong PINs.")
    assert not phonelock.lock_state(engine, "2001").locked


def test_change_pin_asks_old_and_new_twice(service):
    client, settings, engine = service
    form = parse(client.get("/phone/pin", query_string={"name": ANNA_PHONE}))
    assert [(i.findtext("QueryStringParam"), i.findtext("InputFlags")) for i in form.findall("InputItem")] == [
        ("old", "NP"),
        ("new", "NP"),
        ("again", "NP"),
    ]
    url = form.findtext("URL")
    assert (
        parse(follow(client, url, old="4826", new="7391", again="7392")).findtext("Text") == "The two new PINs differ."
    )
    assert parse(follow(client, url, old="4826", new="1234", again="1234")).findtext("Text").startswith("Choose a PIN")
    assert parse(follow(client, url, old="4826", new="73", again="73")).findtext("Text") == "A PIN has 4 digits."
    assert (
        parse(follow(client, url, old="4826", new="7391", again="7391")).findtext("Text")
        == "Your PIN has been changed."
    )
    assert phonelock.verify_pin(settings, engine, "anna", "7391").ok


def test_texts_are_in_the_owners_language(service):
    client, _, _ = service
    root = parse(client.get("/phone/menu", query_string={"name": BRUNO_PHONE}))
    assert root.findtext("Title") == "Blocco telefono"
    assert [i.findtext("Name") for i in root.findall("MenuItem")] == ["Blocca il telefono", "Cambia PIN", "Stato"]
    status = parse(client.get("/phone/status", query_string={"name": BRUNO_PHONE}))
    assert status.findtext("Text") == "Interno 2002: sbloccato."


def test_status_shows_the_budget(service):
    client, settings, engine = service
    from warehouse import budgets

    budgets.assign_budget(
        settings, engine, load_principal(engine, "root"), "user", "anna", "monthly", "10", currency="EUR"
    )
    budgets.evaluate(settings, engine, now=datetime(2026, 1, 5, 12, tzinfo=UTC))
    with_budget = budgets.my_budgets(
        settings, engine, load_principal(engine, "anna"), now=datetime(2026, 1, 5, 12, tzinfo=UTC)
    )
    assert with_budget[0].spent == Decimal("1")
    text = parse(client.get("/phone/status", query_string={"name": ANNA_PHONE})).findtext("Text")
    assert text.startswith("Extension 2001: unlocked.\nPersonal budget: ")


def test_bad_and_unknown_phones_get_an_explanation(service):
    client, _, _ = service
    for name in (None, "", "SEP123", "SEP00AABBCC20011", "CSFANNA", "SEP00AABBCC20G1"):
        text = parse(client.get("/phone/menu", query_string={"name": name} if name is not None else {}))
        assert "#DEVICENAME#" in text.findtext("Text")
    unknown = parse(client.get("/phone/menu", query_string={"name": "SEP0000000000FF"}))
    assert unknown.findtext("Text").startswith("This phone is not known yet.")


def test_no_pin_yet_says_so(service):
    client, settings, engine = service
    with engine.begin() as conn:
        conn.execute(phonelock.phone_pin.delete())
    text = parse(client.get("/phone/lock", query_string={"name": ANNA_PHONE})).findtext("Text")
    assert text == "No PIN is set for you yet. Ask your administrator for one."


def test_everything_is_escaped(settings):
    body = ipphone.text('Ann & "Bob" <x>', "", "a < b & c > d 'e'")
    root = etree.fromstring(body)
    assert root.findtext("Title") == 'Ann & "Bob" <x>'
    assert b"&amp;" in body
    assert b"&lt;" in body
    long = etree.fromstring(ipphone.menu("T" * 50, "P" * 40, [("N" * 80, "http://x/")]))
    assert len(long.findtext("Title")) == 32
    assert long.findtext("Title").endswith("…")
    assert len(long.find("MenuItem").findtext("Name")) == 64


def test_device_owner_from_axl_getphone(home, cucm_double, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_AXL_PASSWORD", cucm_double.password)
    (home / "ringledger.toml").write_text(
        f'[cucm]\naxl_url = "{cucm_double.url}"\naxl_user = "axl"\nline_partition = "PT_LINES"\n'
    )
    settings = load_settings()
    engine = staff(settings)
    owner = phonelock.device_owner(settings, engine, BRUNO_PHONE)
    assert (owner.extension, owner.user_id, owner.source) == ("2002", "bruno", "axl")
    assert [r["operation"] for r in cucm_double.requests()] == ["getPhone"]
    phonelock.device_owner(settings, engine, BRUNO_PHONE)  # remembered: no second request
    assert len(cucm_double.requests()) == 1


def test_a_lock_is_pushed_to_the_phone(home, cucm_double, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_PHONE_PUSH_PASSWORD", cucm_double.password)
    (home / "ringledger.toml").write_text(
        '[phone_service]\npush = true\npublic_url = "http://acct.example:8502"\npush_user = "axl"\n'
    )
    settings = load_settings()
    engine = staff(settings)
    phonelock.remember_device(engine, ANNA_PHONE, "2001", "anna", "manual")
    phonelock.seen_device(engine, ANNA_PHONE, cucm_double.base.removeprefix("http://"), "Cisco 8845")
    phonelock.set_admin_lock(settings, engine, load_principal(engine, "root"), "2001", True)
    pushed = cucm_double.requests("/CGI/Execute")
    assert len(pushed) == 1
    assert pushed[0]["authorized"]
    execute = etree.fromstring(pushed[0]["xml"].encode())
    assert execute.tag == "CiscoIPPhoneExecute"
    item = execute.find("ExecuteItem")
    assert item.get("URL") == f"http://acct.example:8502/phone/notice?name={ANNA_PHONE}"
    assert item.get("Priority") == "1"
    # the notice page the phone then opens
    app = create_app(settings)
    text = parse(app.test_client().get("/phone/notice", query_string={"name": ANNA_PHONE})).findtext("Text")
    assert text == "Outgoing calls are blocked (locked by the administrator). Emergency numbers still work."
    assert (
        urlparse(
            parse(app.test_client().get("/phone/menu", query_string={"name": ANNA_PHONE}))
            .find("MenuItem")
            .findtext("URL")
        ).netloc
        == "acct.example:8502"
    )
    assert timedelta(0) <= datetime.now(UTC) - phonelock.devices_of(engine, ["2001"])[0].seen_at.astimezone(UTC)


def test_a_budget_lock_stays_when_the_user_unlocks_and_says_until_when(service):
    client, settings, engine = service
    from warehouse import budgets

    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "bruno", "monthly", "1")
    write_calls(
        settings, [{"extension": "2002", "started_at": datetime.now(UTC) - timedelta(minutes=1), "cost": Decimal("5")}]
    )
    budgets.evaluate(settings, engine)
    until = budgets.my_budgets(settings, engine, load_principal(engine, "bruno"))[0].until
    done = parse(client.get("/phone/unlock/done", query_string={"name": BRUNO_PHONE, "pin": "5190"}))
    assert (
        done.findtext("Text")
        == f"Il budget è esaurito: il telefono resta bloccato fino al {until.day} {_it_month(until)} {until.year}."
    )
    assert phonelock.lock_state(engine, "2002").budget_locked


def _it_month(d) -> str:
    from babel.dates import format_date

    return format_date(d, "MMM", locale="it")
