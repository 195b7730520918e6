"""Cisco IP Phone XML objects, built with lxml (so every text is escaped), and pushes to phones.

Objects used: CiscoIPPhoneMenu, CiscoIPPhoneInput, CiscoIPPhoneText and CiscoIPPhoneExecute. Element
and attribute names are case sensitive and nothing else may appear in them; every document starts with
`<?xml version="1.0" encoding="utf-8"?>` because without it a phone reads bytes in its locale's encoding.

Length limits enforced here (longer texts are cut and end with '…'), the smallest the phone families
69xx, 78xx/79xx, 88xx, 89xx and 99xx accept:

| element | limit |
|---|---|
| Title, Prompt | 32 characters |
| MenuItem Name | 64 characters, at most 100 items |
| InputItem DisplayName | 32 characters, at most 5 items |
| QueryStringParam, DefaultValue | 32 characters |
| Text | 4000 characters |
| SoftKeyItem Name | 12 characters, positions 1-8 |
| URL | 256 characters |
| ExecuteItem | at most 3 |

A pushed object goes to `http://<phone>/CGI/Execute` as the form field XML, with HTTP Basic
authentication of a user associated with the phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import requests
from lxml import etree

TITLE_MAX = 32
PROMPT_MAX = 32
NAME_MAX = 64
DISPLAY_NAME_MAX = 32
PARAM_MAX = 32
TEXT_MAX = 4000
SOFTKEY_MAX = 12
URL_MAX = 256
MENU_ITEMS_MAX = 100
INPUT_ITEMS_MAX = 5
EXECUTE_ITEMS_MAX = 3
CONTENT_TYPE = "text/xml; charset=utf-8"


def fit(text: str, limit: int) -> str:
    """The text cut to `limit` characters, ending with '…' when it was longer."""
    text = " ".join((text or "").split()) if limit < TEXT_MAX else (text or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _url(url: str) -> str:
    if len(url) > URL_MAX:
        raise ValueError(f"phone URL longer than {URL_MAX} characters: {url[:60]}...")
    return url


@dataclass(frozen=True)
class SoftKey:
    """A softkey: its label, the URL or SoftKey: URI it runs, and its position (1-8)."""

    name: str
    url: str
    position: int


def _softkeys(root: etree._Element, softkeys: Sequence[SoftKey]) -> None:
    for key in softkeys:
        if not 1 <= key.position <= 8:
            raise ValueError(f"softkey position {key.position} must be 1-8")
        item = etree.SubElement(root, "SoftKeyItem")
        etree.SubElement(item, "Name").text = fit(key.name, SOFTKEY_MAX)
        etree.SubElement(item, "URL").text = _url(key.url)
        etree.SubElement(item, "Position").text = str(key.position)


def _title_prompt(root: etree._Element, title: str, prompt: str) -> None:
    etree.SubElement(root, "Title").text = fit(title, TITLE_MAX)
    if prompt:
        etree.SubElement(root, "Prompt").text = fit(prompt, PROMPT_MAX)


def to_bytes(root: etree._Element) -> bytes:
    """The document with the UTF-8 declaration the phones need."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def menu(title: str, prompt: str, items: list[tuple[str, str]], softkeys: Sequence[SoftKey] = ()) -> bytes:
    """A CiscoIPPhoneMenu of (name, URL) items."""
    if len(items) > MENU_ITEMS_MAX:
        raise ValueError(f"a menu holds at most {MENU_ITEMS_MAX} items")
    root = etree.Element("CiscoIPPhoneMenu")
    _title_prompt(root, title, prompt)
    for name, url in items:
        item = etree.SubElement(root, "MenuItem")
        etree.SubElement(item, "Name").text = fit(name, NAME_MAX)
        etree.SubElement(item, "URL").text = _url(url)
    _softkeys(root, list(softkeys))
    return to_bytes(root)


@dataclass(frozen=True)
class InputItem:
    """One field of a CiscoIPPhoneInput: label, query-string name, flags (e.g. 'NP' masked digits)."""

    display_name: str
    param: str
    flags: str = "A"
    default: str = ""


_FLAGS = {"A", "T", "N", "E", "U", "L", "AP", "TP", "NP", "EP", "UP", "LP"}


def input_form(title: str, prompt: str, url: str, fields: list[InputItem], softkeys: Sequence[SoftKey] = ()) -> bytes:
    """A CiscoIPPhoneInput; the phone appends the fields to `url` as a query string (GET)."""
    if not 1 <= len(fields) <= INPUT_ITEMS_MAX:
        raise ValueError(f"an input form holds 1 to {INPUT_ITEMS_MAX} fields")
    root = etree.Element("CiscoIPPhoneInput")
    _title_prompt(root, title, prompt)
    etree.SubElement(root, "URL").text = _url(url)
    for f in fields:
        if f.flags not in _FLAGS:
            raise ValueError(f"unknown InputFlags {f.flags!r}")
        if len(f.param) > PARAM_MAX or not f.param.isidentifier():
            raise ValueError(f"query string parameter {f.param!r} must be a short identifier")
        item = etree.SubElement(root, "InputItem")
        etree.SubElement(item, "DisplayName").text = fit(f.display_name, DISPLAY_NAME_MAX)
        etree.SubElement(item, "QueryStringParam").text = f.param
        etree.SubElement(item, "DefaultValue").text = fit(f.default, PARAM_MAX)
        etree.SubElement(item, "InputFlags").text = f.flags
    _softkeys(root, list(softkeys))
    return to_bytes(root)


def text(title: str, prompt: str, body: str, softkeys: Sequence[SoftKey] = ()) -> bytes:
    """A CiscoIPPhoneText."""
    root = etree.Element("CiscoIPPhoneText")
    _title_prompt(root, title, prompt)
    etree.SubElement(root, "Text").text = fit(body, TEXT_MAX)
    _softkeys(root, list(softkeys))
    return to_bytes(root)


def execute(items: list[tuple[str, int]]) -> bytes:
    """A CiscoIPPhoneExecute of (URL or URI, priority) items; priority 0 now, 1 when idle, 2 only if idle."""
    if not 1 <= len(items) <= EXECUTE_ITEMS_MAX:
        raise ValueError(f"an execute object holds 1 to {EXECUTE_ITEMS_MAX} items")
    root = etree.Element("CiscoIPPhoneExecute")
    for url, priority in items:
        if priority not in (0, 1, 2):
            raise ValueError("ExecuteItem priority is 0, 1 or 2")
        etree.SubElement(root, "ExecuteItem", Priority=str(priority), URL=_url(url))
    return to_bytes(root)


class PushError(Exception):
    """A phone refused or did not answer a pushed object."""


def push(address: str, xml: bytes, user: str, password: str, timeout: float = 5.0) -> str:
    """POST an object to a phone's /CGI/Execute; returns the phone's answer (a CiscoIPPhoneResponse)."""
    url = f"http://{address}/CGI/Execute"
    try:
        resp = requests.post(
            url, data={"XML": xml.decode("utf-8")}, auth=(user, password), timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise PushError(f"{url}: {exc}") from exc
    body = resp.text
    if resp.status_code != 200 or "CiscoIPPhoneError" in body:
        raise PushError(f"{url}: HTTP {resp.status_code}: {body[:200]}")
    return body
