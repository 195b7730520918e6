"""The CURRI policy decision: parse what CUCM sends, decide, answer in the XACML shape CUCM reads."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.curri_client import parse_answer, route_request
from warehouse import curri
from warehouse.config import load_settings

SITES = """
[cucm]
enforcement = "curri"
curri_deny_announcement = "ANN_LOCKED"

[[sites]]
name = "Milano"
country = "IT"
access_codes = ["0"]
internal_ranges = ["2000-2999"]
emergency_numbers = ["0118"]

[[sites]]
name = "Boston"
country = "US"
access_codes = ["9"]
internal_ranges = ["7000-7999"]
"""

LOCKED = frozenset({"2001", "7001"})


@pytest.fixture
def curri_settings(home):
    (home / "ringledger.toml").write_text(SITES)
    return load_settings()


def ask(settings, calling: str, called: str, locked=LOCKED, **kw) -> curri.Decision:
    return curri.decide(settings, locked, curri.parse_request(route_request(calling, called, **kw)))


@pytest.mark.parametrize(
    ("calling", "called", "decision"),
    [
        ("2001", "00390212345678", "Deny"),  # locked, outside number
        ("2001", "+390212345678", "Deny"),
        ("2001", "2002", "Permit"),  # locked, internal
        ("2001", "112", "Permit"),  # emergency, always
        ("2001", "0112", "Permit"),  # with the outside-line access code
        ("2001", "0118", "Permit"),  # the site's own emergency number
        ("2001", "911", "Permit"),  # another site's emergency number
        ("7001", "9911", "Permit"),
        ("7001", "912125551234", "Deny"),
        ("2002", "00390212345678", "Permit"),  # not locked
    ],
)
def test_decisions(curri_settings, calling, called, decision):
    assert ask(curri_settings, calling, called).decision == decision


def test_the_transformed_numbers_count_too(curri_settings):
    # CUCM globalises numbers: the locked extension may only appear as the transformed calling number
    assert ask(curri_settings, "+390299992001", "0212345678", transformed_calling="2001").decision == "Deny"
    assert ask(curri_settings, "2001", "5", transformed_called="112").decision == "Permit"


def test_only_the_curri_engine_denies(home):
    (home / "ringledger.toml").write_text(SITES.replace('enforcement = "curri"', 'enforcement = "record"'))
    assert ask(load_settings(), "2001", "00390212345678").decision == "Permit"


def test_requests_with_odd_casing_and_bad_bodies(curri_settings):
    # the developer guide prints element names in lower case and a commented-out declaration
    lower = (
        b'<!--?xml version="1.0" encoding="UTF-8"?-->'
        b'<request xmlns="urn:oasis:names:tc:xacml:2.0:context:schema:os"><subject>'
        b'<attribute attributeid="urn:Cisco:uc:1.0:callingnumber"><attributevalue>2001</attributevalue></attribute>'
        b'<attribute attributeid="urn:Cisco:uc:1.0:callednumber"><attributevalue>0044207946000</attributevalue>'
        b"</attribute></subject></request>"
    )
    req = curri.parse_request(lower)
    assert (req.calling, req.called) == ("2001", "0044207946000")
    with pytest.raises(curri.CurriRequestError):
        curri.parse_request(b"<html>hello</html>")
    with pytest.raises(curri.CurriRequestError):
        curri.parse_request(b"not xml")
    entity = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Request>&x;</Request>'
    assert "root" not in repr(curri.parse_request(entity))


def test_answers_have_the_xacml_shape_with_an_escaped_cixml_obligation(curri_settings):
    deny = curri.response_xml(curri_settings, curri.Decision("Deny", "locked"))
    assert deny.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(deny)
    assert root.tag == "Response"
    assert root.findtext("Result/Decision") == "Deny"
    assert root.find("Result/Status/StatusCode").get("Value") == curri.STATUS_OK
    obligation = root.find("Result/Obligations/Obligation")
    assert obligation.get("FulfillOn") == "Deny"
    value = obligation.find("AttributeAssignment/AttributeValue")
    assert value.get("DataType") == "http://www.w3.org/2001/XMLSchema#string"
    assert len(value) == 0  # CIXML travels as escaped text, not as child elements
    assert b"&lt;cixml" in deny
    cixml = etree.fromstring(value.text)
    assert cixml.tag == "cixml"
    assert cixml.find("reject/announce").get("identification") == "ANN_LOCKED"
    permit = parse_answer(200, curri.response_xml(curri_settings, curri.Decision("Permit", "ok")))
    assert permit.decision == "Permit"
    assert etree.fromstring(permit.cixml).find("continue") is not None
    odd = etree.fromstring(
        curri.response_xml(curri_settings, curri.Decision("Indeterminate", "x", curri.STATUS_SYNTAX))
    )
    assert odd.findtext("Result/Decision") == "Indeterminate"
    assert odd.find("Result/Obligations") is None
