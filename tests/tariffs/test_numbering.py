"""Dialled digits as CUCM records them, read per site: the traps of access codes, prefixes and short numbers."""

from __future__ import annotations

import pytest

from tariffs.numbering import classify, classify_many, clean, numbering_plan

# every site's ranges are internal everywhere in the cluster (as warehouse.rating builds them)
RANGES = ["2000-2999", "4000-4999", "6000-6999"]
MILANO = numbering_plan(
    "IT", ["0"], internal_ranges=RANGES, emergency_numbers=["0112"], areas=["Milano"], language="it"
)
BERLIN = numbering_plan("DE", ["0"], areas=["Berlin"])
NEW_YORK = numbering_plan("US", ["9"], internal_ranges=["6000-6999"], emergency_numbers=["9911"], areas=["New York"])
LONDON = numbering_plan(
    "GB", ["9"], internal_ranges=["4000-4999"], emergency_numbers=["9999", "9112"], areas=["London"]
)

# (site, dialled, e164, nation, destination_type)
TRAPS = [
    # an Italian site dialling 0 + 02...: naively +212 Morocco
    (MILANO, "00212345678", "+390212345678", "IT", "local"),
    (MILANO, "00612345678", "+390612345678", "IT", "national"),
    (MILANO, "03351234567", "+393351234567", "IT", "mobile"),
    (MILANO, "0800123456", "+39800123456", "IT", "toll_free"),
    (MILANO, "0899123456", "+39899123456", "IT", "premium"),
    (MILANO, "0848123456", "+39848123456", "IT", "special"),
    (MILANO, "000442079460000", "+442079460000", "GB", "international"),
    (MILANO, "0112", None, "IT", "emergency"),  # access code + 112
    (MILANO, "112", None, "IT", "emergency"),
    (MILANO, "0113", None, "IT", "emergency"),
    (MILANO, "2105", None, None, "internal"),
    (MILANO, "4105", None, None, "internal"),  # another site's range, same cluster
    (MILANO, "+39 02 1234 5678", "+390212345678", "IT", "local"),
    (MILANO, "00212345678#", "+390212345678", "IT", "local"),  # the '#' terminator
    (MILANO, "sip:00212345678@cucm.example.com", "+390212345678", "IT", "local"),
    (MILANO, "sip:anna.rossi@example.com", None, None, "internal"),  # a directory URI
    (MILANO, "*67", None, "IT", "special"),
    (MILANO, "0123", None, None, "unknown"),
    # a German site dialling 0 + 0030...: naively +30 Greece
    (BERLIN, "0030123456", "+4930123456", "DE", "local"),
    (BERLIN, "000390212345678", "+390212345678", "IT", "international"),
    # a US site dialling 9 + 1 + number
    (NEW_YORK, "912125551234", "+12125551234", "US", "local"),
    (NEW_YORK, "913125551234", "+13125551234", "US", "national"),
    (NEW_YORK, "9011390212345678", "+390212345678", "IT", "international"),
    (NEW_YORK, "918005551234", "+18005551234", "US", "toll_free"),
    (NEW_YORK, "914165551234", "+14165551234", "CA", "international"),
    (NEW_YORK, "9911", None, "US", "emergency"),  # the translation pattern's 9 + 911
    (NEW_YORK, "911", None, "US", "emergency"),
    (NEW_YORK, "6001", None, None, "internal"),
    (LONDON, "902079460000", "+442079460000", "GB", "local"),
    (LONDON, "901612345678", "+441612345678", "GB", "national"),
    (LONDON, "9999", None, "GB", "emergency"),
    (LONDON, "9112", None, "GB", "emergency"),
    (LONDON, "909098790000", "+449098790000", "GB", "premium"),
]


@pytest.mark.parametrize(
    ("site", "dialled", "e164", "nation", "kind"), TRAPS, ids=[f"{t[0].country}:{t[1]}" for t in TRAPS]
)
def test_dialled_digits(site, dialled, e164, nation, kind):
    c = classify(site, dialled)
    assert (c.e164, c.nation, c.destination_type) == (e164, nation, kind)


def test_area_and_operator():
    fixed = classify(MILANO, "00612345678")
    assert fixed.area == "Rome"
    assert fixed.operator is None
    mobile = classify(MILANO, "03351234567")
    assert mobile.area is None
    assert mobile.operator == "TIM"
    # the geocoder names only a country for some ranges: that is no area
    assert classify(MILANO, "+390573123456").area is None
    assert classify(NEW_YORK, "912125551234").area == "New York, NY"


@pytest.mark.parametrize(
    ("site", "received", "e164"),
    [
        (MILANO, "0212345678", "+390212345678"),  # national format, no access code on incoming caller IDs
        (MILANO, "00212345678", "+390212345678"),  # a dial plan that prefixes the access code for call-back
        (NEW_YORK, "2125551234", "+12125551234"),
        (LONDON, "02079460000", "+442079460000"),
    ],
)
def test_incoming_caller_numbers(site, received, e164):
    assert classify(site, received, "in").e164 == e164


def test_outpulsed_numbers_without_the_access_code():
    # the number sent to the trunk after transformations: read as written first
    assert classify(MILANO, "0212345678", "sent").e164 == "+390212345678"
    assert classify(NEW_YORK, "+12125551234", "sent").e164 == "+12125551234"


def test_clean():
    assert clean(" 00-21.23 (4567)# ") == ("0021234567", None)
    assert clean("tel:+390212345678") == ("+390212345678", None)
    assert clean("sips:alice@example.com;user=phone") == ("alice", "internal")


def test_profiles_change_with_the_rules():
    a = numbering_plan("IT", ["0"])
    assert a.profile_id == numbering_plan("IT", ["0"]).profile_id
    assert a.profile_id != numbering_plan("IT", ["9"]).profile_id
    assert a.profile_id.startswith("IT-")


def test_classify_many_in_processes_matches_one_by_one():
    raws = [f"0{n}" for n in ("212345678", "3351234567", "800123456")] * 7000
    one = classify_many(MILANO, raws[:30])
    many = classify_many(MILANO, raws, workers=2)
    assert many.num_rows == len(raws)
    assert many.slice(0, 30).equals(one)
