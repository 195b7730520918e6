"""The CURRI policy endpoint on a live phone service, asked the way CUCM asks, 50 calls at once."""

from __future__ import annotations

import threading
import time

from lxml import etree

from tests.curri_client import CurriClient
from tests.lock_data import staff
from warehouse import phonelock, runtime_settings
from warehouse.access import load_principal
from warehouse.config import load_settings

CONFIG = """
[cucm]
enforcement = "curri"
curri_cache_seconds = 0.5

[[sites]]
name = "Milano"
country = "IT"
access_codes = ["0"]
internal_ranges = ["2000-2999"]
"""

# (calling, called, expected decision)
CASES = [
    ("2001", "00390212345678", "Deny"),  # locked by the user, outside number
    ("2002", "00447946000000", "Deny"),  # admin lock
    ("2001", "112", "Permit"),  # emergency: always
    ("2002", "0112", "Permit"),  # emergency with the access code
    ("2001", "2003", "Permit"),  # internal
    ("2003", "00390212345678", "Permit"),  # not locked
    ("2009", "0612345678", "Permit"),
]


def test_fifty_concurrent_cucm_requests_get_the_right_decisions(home, phone_service_factory):
    (home / "ringledger.toml").write_text(CONFIG)
    settings = load_settings()
    engine = staff(settings)
    phonelock.set_user_lock(settings, engine, load_principal(engine, "anna"), True)
    phonelock.set_admin_lock(settings, engine, load_principal(engine, "root"), "2002", True)
    live = phone_service_factory(home)
    url = f"{live.url}/curri"

    keepalive = CurriClient(url)
    assert keepalive.keepalive() == 200
    assert keepalive.ask("2001", "00390212345678").decision == "Deny"  # same connection after HEAD
    keepalive.close()

    requests = [CASES[i % len(CASES)] for i in range(50)]
    answers: list = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def one(i: int) -> None:
        client = CurriClient(url)
        try:
            start.wait()
            calling, called, _ = requests[i]
            answers[i] = client.ask(calling, called)
        finally:
            client.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (calling, called, expected), answer in zip(requests, answers, strict=True):
        assert answer is not None, (calling, called)
        assert answer.status == 200, (calling, called)
        assert answer.decision == expected, (calling, called)
        cixml = etree.fromstring(answer.cixml)
        assert cixml.find("reject" if expected == "Deny" else "continue") is not None

    # the user unlocks: the endpoint follows within its cache time
    phonelock.set_user_lock(settings, engine, load_principal(engine, "anna"), False)
    client = CurriClient(url)
    deadline = time.monotonic() + 20
    decision = client.ask("2001", "00390212345678").decision
    while decision != "Permit" and time.monotonic() < deadline:
        time.sleep(0.2)
        decision = client.ask("2001", "00390212345678").decision
    assert decision == "Permit"
    assert client.ask("2002", "00390212345678").decision == "Deny"  # the admin lock stays

    # an administrator turns CURRI enforcement off on the settings page: followed within the cache time
    runtime_settings.change(settings, engine, "root", {"cucm.enforcement": "record"})
    deadline = time.monotonic() + 20
    while (decision := client.ask("2002", "00390212345678").decision) == "Deny" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert decision == "Permit"
    bad = client.conn
    bad.request("POST", "/curri", body=b"<oops", headers={"Content-type": "text/xml"})
    resp = bad.getresponse()
    assert resp.status == 200
    assert etree.fromstring(resp.read()).findtext("Result/Decision") == "Indeterminate"
    client.close()
