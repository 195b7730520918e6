"""Incoming call analysis on crafted calls: a hunt pilot, lines, forwards, and call-backs of unanswered calls.

Every expected figure is worked out by hand from the legs below (times UTC, reports in UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.calls_lake import leg, write_calls
from warehouse.access import Assignment, Principal
from warehouse.reports import Filters, run_report
from warehouse.reports.inputs import dialling_rule

CONFIG = """
[[sites]]
name = "Milano"
country = "IT"
time_zone = "Europe/Rome"
access_codes = ["0"]
internal_ranges = ["5000-5999"]

[[sites]]
name = "London"
country = "GB"
time_zone = "Europe/London"
access_codes = ["9"]
internal_ranges = ["4000-4999"]

[[sites]]
name = "New York"
country = "US"
time_zone = "America/New_York"
access_codes = ["9"]
internal_ranges = ["6000-6999"]

[[devices]]
device = "GW-1"
kind = "gateway"
label = "Milano PSTN"

[[devices]]
device = "VM-*"
kind = "voicemail"
label = "Voicemail"
"""

ADMIN = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())
PEOPLE = [
    ("anna", "Anna Neri", "Support", "5101"),
    ("bruno", "Bruno Verdi", "Support", "5102"),
    ("carla", "Carla Blu", "Sales", "5103"),
]
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes: float, seconds: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def member(call: str, start: datetime, ext: str, ring: int, answered: bool = False, cause: int = 19, **values):
    """A hunt member leg of pilot 5900: it rings `ring` seconds, then is answered (talks 60 s) or ends."""
    answer = start + timedelta(seconds=ring) if answered else None
    end = (answer + timedelta(seconds=60)) if answer else start + timedelta(seconds=ring)
    return leg(
        start,
        end,
        answer,
        call_id=call,
        extension=ext,
        hunt_pilot="5900",
        original_called_number="5900",
        other_number="0298765432",
        site="Milano",
        gateway="Milano PSTN",
        device="SEP" + ext,
        cause_code=16 if answered else cause,
        **values,
    )


def voicemail(call: str, start: datetime, forwarded_by: str, caller: str = "0298765432"):
    """The call sent on to a voicemail port, which answers and records a message."""
    return leg(
        start,
        start + timedelta(seconds=30),
        start + timedelta(seconds=1),
        call_id=call,
        extension="5999",
        original_called_number=forwarded_by,
        forwarded=True,
        other_number=caller,
        site="Milano",
        device="VM-PORT-1",
    )


def direct(
    call: str, start: datetime, ext: str, ring: int, answered: bool, cause: int, caller: str, site: str, **values
):
    answer = start + timedelta(seconds=ring) if answered else None
    end = (answer + timedelta(seconds=90)) if answer else start + timedelta(seconds=ring)
    return leg(
        start,
        end,
        answer,
        call_id=call,
        extension=ext,
        original_called_number=ext,
        other_number=caller,
        site=site,
        device="SEP" + ext,
        cause_code=16 if answered else cause,
        direction="incoming",
        **values,
    )


def outgoing(start: datetime, number: str, answered: bool, site: str, ext: str = "5101", **values):
    answer = start + timedelta(seconds=8) if answered else None
    return leg(
        start,
        start + timedelta(seconds=120 if answered else 30),
        answer,
        direction="outgoing",
        leg_role="caller",
        extension=ext,
        other_number=number,
        site=site,
        **values,
    )


LEGS = [
    # H1: 5101 rings out (12 s), 5102 answers after 5 s: answered, 17 s to answer
    member("H1", at(0), "5101", 12),
    member("H1", at(0, 12), "5102", 5, answered=True),
    # H2: 5101 answers after 25 s
    member("H2", at(10), "5101", 25, answered=True),
    # H3: 5101 rings out, the caller hangs up 4 s into 5102: abandoned after 16 s
    member("H3", at(20), "5101", 12),
    member("H3", at(20, 12), "5102", 4, cause=16),
    # H4: both ring out, the pilot sends the call to voicemail: overflowed
    member("H4", at(30), "5101", 12),
    member("H4", at(30, 12), "5102", 12),
    voicemail("H4", at(30, 24), "5900"),
    # H5: 5101 rings out and the pilot has nowhere to send it
    member("H5", at(40), "5101", 12),
    # direct calls to Carla's line 5103: one rings out (cause 19), one forwarded on no answer to voicemail
    direct("D1", at(50), "5103", 30, False, 19, "+442079460123", "Milano"),
    voicemail("D2", at(60), "5103", caller="+12125550100"),
    # direct calls to Anna: answered after 3 s, and one the caller abandons
    direct("D3", at(70), "5101", 3, True, 16, "3471234567", "Milano"),
    direct("D4", at(80), "5101", 8, False, 16, "3471234567", "Milano"),
    # call-backs (numbers as CUCM records them: with the site's access code)
    outgoing(at(120), "00298765432", True, "Milano"),  # H3's and H4's caller, reached
    outgoing(at(200), "900442079460123", False, "London", ext="4101"),  # D1's caller, tried, not reached
    outgoing(at(60 * 24 * 8), "912125550100", True, "New York", ext="6101"),  # D2's: after more than 7 days
    outgoing(at(75), "03471234567", True, "Milano"),  # to D4's caller, but before D4 rang: not a call-back
]


@pytest.fixture(params=["stored", "from_calls"])
def lake(home, request):
    """The crafted calls, with their offers stored as the ingest stores them, or not (worked out from the calls)."""
    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    from warehouse.config import load_settings
    from warehouse.offers import rebuild_offers

    settings = load_settings()
    write_calls(settings, LEGS, PEOPLE)
    if request.param == "stored":
        assert rebuild_offers(settings) > 0
    return settings


DAY = Filters(period="custom", date_from=date(2026, 3, 3), date_to=date(2026, 3, 3), time_zone="UTC")


def test_hunt_pilot_offers_answers_and_waits(lake):
    result = run_report(lake, ADMIN, "answer_rate_by_hunt_pilot", DAY)
    [pilot] = result.records()
    assert pilot["g1"] == "5900"
    assert pilot["offered"] == 5
    assert pilot["answered"] == 2
    assert pilot["answer_rate"] == pytest.approx(0.4)
    assert pilot["answered_within"] == 1  # H1 after 17 s; H2 after 25 s
    assert pilot["service_level"] == pytest.approx(0.2)
    assert pilot["avg_answer_s"] == pytest.approx(21)
    assert pilot["p90_answer_s"] == pytest.approx(17 + 0.9 * (25 - 17))
    assert pilot["max_answer_s"] == 25
    assert (pilot["abandoned"], pilot["overflowed"], pilot["not_answered"]) == (1, 1, 1)
    assert pilot["avg_abandon_s"] == pytest.approx(16)
    labels = {c.key: c.label for c in result.columns}
    assert labels["answered_within"] == "Answered within 20 s"


def test_stored_pilot_offers_answer_an_administrator_and_the_calls_everyone_else(lake):
    from warehouse.lake import Lake
    from warehouse.reports.catalogue import get
    from warehouse.reports.engine import build_query

    stored = bool(Lake(lake.lake_dir).files("pilot_offers"))
    report = get("answer_rate_by_hunt_pilot")
    assert ("from pilot_offers" in build_query(lake, ADMIN, report, DAY).sql) == stored
    # an option the stored offers do not carry, or a person who sees part of the calls: from the calls
    assert "from pilot_offers" not in build_query(lake, ADMIN, report, DAY.merged(gateways=["Milano PSTN"])).sql
    anna = Principal("anna", role="user", time_zone="UTC", language="en", assignments=(Assignment("5101"),))
    assert "from pilot_offers" not in build_query(lake, anna, report, DAY).sql
    # a member sees the pilot's offers that rang her, with the outcome all the members' legs decide
    [pilot] = run_report(lake, anna, "answer_rate_by_hunt_pilot", DAY).records()
    assert (pilot["g1"], pilot["offered"], pilot["answered"]) == ("5900", 5, 2)


def test_the_answer_target_is_an_option(lake):
    result = run_report(lake, ADMIN, "answer_rate_by_hunt_pilot", DAY.merged(answer_within_s=30))
    [pilot] = result.records()
    assert pilot["answered_within"] == 2
    assert {c.key: c.label for c in result.columns}["service_level"] == "Share answered within 30 s"
    assert "Answer target: 30 s" in result.description


def test_lines_offers_and_outcomes(lake):
    by_line = {r["g1"]: r for r in run_report(lake, ADMIN, "answer_rate_by_extension", DAY).records()}
    # voicemail ports are not lines; the pilot's own forward to voicemail belongs to the pilot
    assert set(by_line) == {"5101", "5102", "5103"}
    anna = by_line["5101"]
    # H1, H3, H4 went on to 5102 or voicemail; H2 answered after 25 s; H5 rang out; D3 answered after 3 s;
    # D4 the caller gave up
    assert (anna["offered"], anna["answered"], anna["overflowed"], anna["not_answered"], anna["abandoned"]) == (
        7,
        2,
        3,
        1,
        1,
    )
    assert anna["g1_extra"] == "Anna Neri"
    assert anna["answered_within"] == 1
    assert anna["avg_answer_s"] == pytest.approx(14)
    bruno = by_line["5102"]
    # H1 answered after 5 s; H3 the caller hung up; H4 went on to voicemail
    assert (bruno["offered"], bruno["answered"], bruno["abandoned"], bruno["overflowed"]) == (3, 1, 1, 1)
    carla = by_line["5103"]
    # D1 rang out; D2 was forwarded to voicemail on her behalf (it counts for her line, as overflowed)
    assert (carla["offered"], carla["answered"], carla["overflowed"], carla["not_answered"]) == (2, 0, 1, 1)
    assert carla["g1_extra"] == "Carla Blu"


def test_a_person_sees_the_offers_of_their_own_line(lake):
    carla = Principal("carla", role="user", time_zone="UTC", language="en", assignments=(Assignment("5103"),))
    rows = run_report(lake, carla, "answer_rate_by_extension", DAY).records()
    assert [(r["g1"], r["offered"], r["overflowed"]) for r in rows] == [("5103", 2, 1)]


def test_unanswered_calls_and_their_call_backs(lake):
    result = run_report(lake, ADMIN, "unanswered_callbacks", DAY)
    calls = {(r["called_number"], r["started_at"]): r for r in result.records()}
    h3 = calls[("5900", at(20).replace(tzinfo=None))]
    assert h3["outcome"] == "Caller hung up"
    assert h3["callback_status"] == "Called back"
    # the caller left at 09:20:16; the call back started at 11:00:00: 99 whole minutes later
    assert h3["callback_minutes"] == 99
    assert h3["wait_s"] == 16
    h4 = calls[("5900", at(30).replace(tzinfo=None))]
    assert (h4["outcome"], h4["callback_status"]) == ("Reached voicemail", "Called back")
    assert h4["wait_s"] == 25  # 24 s of members ringing, then voicemail answered after 1 s
    h5 = calls[("5900", at(40).replace(tzinfo=None))]
    assert (h5["outcome"], h5["callback_status"]) == ("Rang out or busy", "Called back")
    d1 = calls[("5103", at(50).replace(tzinfo=None))]
    # +44 20 7946 0123 dialled back from London as 9 00 44 20...: tried, not reached
    assert (d1["outcome"], d1["callback_status"], d1["callback_minutes"]) == (
        "Rang out or busy",
        "Tried, not reached",
        149,
    )
    d2 = calls[("5103", at(60).replace(tzinfo=None))]
    assert (d2["outcome"], d2["callback_status"], d2["callback_minutes"]) == (
        "Reached voicemail",
        "Not called back yet",
        None,
    )
    assert (d2["extension"], d2["user_name"]) == ("5103", "Carla Blu")  # sent to voicemail on her behalf
    d4 = calls[("5101", at(80).replace(tzinfo=None))]
    assert (d4["outcome"], d4["callback_status"]) == ("Caller hung up", "Not called back yet")
    # answered calls are not there; the callers' numbers are masked
    assert ("5900", at(0).replace(tzinfo=None)) not in calls
    assert ("5101", at(70).replace(tzinfo=None)) not in calls
    assert d4["other_number"] == "3471234***"
    assert len(calls) == 6


# An outside number as the gateway presents it on a missed call, and as the site dials it back.
NUMBER_PAIRS = [
    ("Milano", "0298765432", "00298765432"),  # national: access code 0, Italian numbers keep their 0
    ("Milano", "3471234567", "03471234567"),  # mobile
    ("Milano", "004930123456", "0004930123456"),  # international: 00 on the PRI, 0 00 dialled
    ("London", "+442079460123", "902079460123"),  # +E.164 on the SIP trunk, 9 0... dialled (national prefix 0)
    ("London", "+33123456789", "90033123456789"),
    ("New York", "+12125550100", "912125550100"),  # national prefix 1
    ("New York", "+442079460123", "9011442079460123"),  # international prefix 011
]


@pytest.fixture
def numbers_lake(home):
    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    from warehouse.config import load_settings

    settings = load_settings()
    legs = []
    for i, (site, received, dialled) in enumerate(NUMBER_PAIRS):
        legs.append(direct(f"N{i}", at(i * 10), "5103", 20, False, 19, received, site))
        legs.append(outgoing(at(i * 10 + 5), dialled, True, site))
    # the same digits without the access code are another number: no call-back
    legs.append(direct("N-no", at(200), "5103", 20, False, 19, "0298765000", "Milano"))
    legs.append(outgoing(at(205), "0298765000", True, "Milano"))
    # a rated number (e164) wins over the digits as recorded
    legs.append(direct("N-rated", at(300), "5103", 20, False, 19, "anonymous-ish", "Milano", e164="+390612345678"))
    legs.append(outgoing(at(305), "0-06-12345678", True, "Milano", e164="+390612345678"))
    write_calls(settings, legs, PEOPLE)
    return settings


def test_numbers_are_compared_as_e164_with_each_sites_dialling_rules(numbers_lake):
    rows = run_report(numbers_lake, ADMIN, "unanswered_callbacks", DAY).records()
    status = {r["started_at"]: (r["callback_status"], r["callback_minutes"]) for r in rows}
    for i in range(len(NUMBER_PAIRS)):
        # rang 20 s from minute 10 i, called back at minute 10 i + 5: 4 whole minutes after
        assert status[at(i * 10).replace(tzinfo=None)] == ("Called back", 4), NUMBER_PAIRS[i]
    assert status[at(200).replace(tzinfo=None)] == ("Not called back yet", None)
    assert status[at(300).replace(tzinfo=None)] == ("Called back", 4)


def test_a_person_sees_the_unanswered_calls_of_their_line(lake):
    carla = Principal("carla", role="user", time_zone="UTC", language="en", assignments=(Assignment("5103"),))
    rows = run_report(lake, carla, "unanswered_callbacks", DAY).records()
    # the call that rang out, and the one her line sent to voicemail
    assert [(r["started_at"], r["outcome"]) for r in rows] == [
        (at(60).replace(tzinfo=None), "Reached voicemail"),
        (at(50).replace(tzinfo=None), "Rang out or busy"),
    ]


@pytest.mark.parametrize(
    ("country", "codes", "country_code", "international", "national", "access"),
    [
        ("IT", ["0"], "39", "00", "", "0"),
        ("GB", ["9"], "44", "00", "0", "9"),
        ("US", ["9", "90"], "1", "011", "1", "90|9"),
    ],
)
def test_dialling_rules_come_from_the_country_and_the_access_codes(
    country, codes, country_code, international, national, access
):
    from warehouse.config import Site

    rule = dialling_rule(Site(name="S", country=country, access_codes=codes))
    assert (rule.country_code, rule.international, rule.national, rule.access) == (
        country_code,
        international,
        national,
        access,
    )


def test_stored_offers_are_read_only_while_the_device_inventory_is_the_one_they_were_stored_with(home):
    from warehouse.config import load_settings
    from warehouse.offers import rebuild_offers
    from warehouse.reports.catalogue import get
    from warehouse.reports.engine import build_query

    def lines() -> set[str]:
        return {r["g1"] for r in run_report(load_settings(), ADMIN, "answer_rate_by_extension", DAY).records()}

    def reads_stored() -> bool:
        return "from offers)" in build_query(load_settings(), ADMIN, get("answer_rate_by_extension"), DAY).sql

    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    # someone dials the voicemail port to hear their messages: a port is not a line
    listen = leg(at(90), at(91), at(90, 2), call_id="V1", extension="5999", device="VM-PORT-1", site="Milano")
    write_calls(load_settings(), [*LEGS, listen], PEOPLE)
    rebuild_offers(load_settings())
    assert reads_stored()
    assert lines() == {"5101", "5102", "5103"}
    # the inventory no longer calls VM-* a voicemail port: the stored offers left 5999 out, so the
    # report works the offers out from the calls until they are stored again
    (home / "ringledger.toml").write_text(CONFIG.replace('kind = "voicemail"', 'kind = "phone"'), encoding="utf-8")
    assert not reads_stored()
    assert "5999" in lines()
    rebuild_offers(load_settings())
    assert reads_stored()
    assert "5999" in lines()
