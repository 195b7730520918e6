"""The policy decision behind CUCM External Call Control (CURRI): may this call be routed?

CUCM posts an XACML 2.0 request (namespace urn:oasis:names:tc:xacml:2.0:context:schema:os) for each
call that matches a pattern carrying an External Call Control profile. Its Subject holds attributes
with the ids urn:Cisco:uc:1.0:callingnumber, :callednumber, :transformedcgpn, :transformedcdpn (and,
on newer releases, :callingdevicename); the Environment holds :triggerpointtype. CUCM also sends HEAD
requests on its persistent connections as keep-alives.

The answer is an XACML Response with one Result whose Decision is Permit, Deny, NotApplicable or
Indeterminate (the last two make CUCM apply the profile's "call treatment on failure"), and an
obligation holding a CIXML instruction (`<continue/>` or `<reject/>`), escaped as text, as CUCM reads it.

Rules (only when `[cucm] enforcement = "curri"`; otherwise every call is permitted):
- an emergency number (of any configured site, with or without an access code) is always permitted;
- a call from a locked extension to a number outside the company is denied;
- everything else is permitted.
Decisions come from an in-memory copy of the locked extensions, re-read from the app database at most
every `[cucm] curri_cache_seconds`, so the answer never waits for the database in the call path.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from sqlalchemy.engine import Engine

from warehouse import dialplan
from warehouse.config import Settings

XACML_NS = "urn:oasis:names:tc:xacml:2.0:context:schema:os"
CISCO = "urn:Cisco:uc:1.0:"
STRING = "http://www.w3.org/2001/XMLSchema#string"
STATUS_OK = "urn:oasis:names:tc:xacml:1.0:status:ok"
STATUS_SYNTAX = "urn:oasis:names:tc:xacml:1.0:status:syntax-error"
STATUS_MISSING = "urn:oasis:names:tc:xacml:1.0:status:missing-attribute"
DECISIONS = ("Permit", "Deny", "NotApplicable", "Indeterminate")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


class CurriRequestError(ValueError):
    """The body is not an XACML call routing request."""


@dataclass(frozen=True)
class RouteRequest:
    """The call CUCM asks about."""

    calling: str
    called: str
    transformed_calling: str = ""
    transformed_called: str = ""
    calling_device: str = ""
    trigger: str = ""


@dataclass(frozen=True)
class Decision:
    """What to answer and why (the reason goes to the log, never to CUCM)."""

    decision: str
    reason: str
    status: str = STATUS_OK


def parse_request(body: bytes) -> RouteRequest:
    """Read the numbers out of a CURRI request (element and attribute names in any letter case)."""
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CurriRequestError(f"not XML: {exc}") from exc
    if etree.QName(root).localname.lower() != "request":
        raise CurriRequestError(f"the root element is {etree.QName(root).localname!r}, not Request")
    values: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname.lower() != "attribute":
            continue
        attr_id = next((v for k, v in el.attrib.items() if k.lower() == "attributeid"), "")
        if not attr_id.lower().startswith(CISCO.lower()):
            continue
        value_el = next(
            (c for c in el if isinstance(c.tag, str) and etree.QName(c).localname.lower() == "attributevalue"), None
        )
        if value_el is not None:
            values[attr_id[len(CISCO) :].lower()] = (value_el.text or "").strip()
    return RouteRequest(
        calling=values.get("callingnumber", ""),
        called=values.get("callednumber", ""),
        transformed_calling=values.get("transformedcgpn", ""),
        transformed_called=values.get("transformedcdpn", ""),
        calling_device=values.get("callingdevicename", ""),
        trigger=values.get("triggerpointtype", ""),
    )


def decide(settings, locked: frozenset[str], request: RouteRequest) -> Decision:
    """Permit or Deny one call from the set of locked extensions (emergency numbers always permitted)."""
    if settings.cucm.enforcement != "curri":
        return Decision("Permit", f"enforcement is {settings.cucm.enforcement!r}, not curri")
    if not request.called and not request.transformed_called:
        return Decision("NotApplicable", "the request has no called number", STATUS_MISSING)
    for number in (request.called, request.transformed_called):
        # every site's emergency numbers and access codes count, whichever site the caller is at
        if number and dialplan.is_emergency(settings, number):
            return Decision("Permit", f"{number} is an emergency number")
    caller = next((n for n in (request.calling, request.transformed_calling) if n in locked), None)
    if caller is None:
        return Decision("Permit", "the calling extension is not locked")
    called = request.called or request.transformed_called
    if dialplan.is_internal(settings, called):
        return Decision("Permit", f"{caller} is locked but {called} is internal")
    return Decision("Deny", f"{caller} is locked and {called} is an outside number")


def response_xml(settings, decision: Decision) -> bytes:
    """The XACML response CUCM expects: Decision, Status and a CIXML obligation (escaped as text)."""
    root = etree.Element("Response")
    result = etree.SubElement(root, "Result")
    etree.SubElement(result, "Decision").text = decision.decision
    status = etree.SubElement(result, "Status")
    etree.SubElement(status, "StatusCode", Value=decision.status)
    if decision.decision in ("Permit", "Deny"):
        cixml = etree.Element("cixml", ver="1.0")
        if decision.decision == "Permit":
            etree.SubElement(cixml, "continue")
        else:
            reject = etree.SubElement(cixml, "reject")
            if settings.cucm.curri_deny_announcement:
                etree.SubElement(reject, "announce", identification=settings.cucm.curri_deny_announcement)
        obligations = etree.SubElement(result, "Obligations")
        obligation = etree.SubElement(
            obligations, "Obligation", FulfillOn=decision.decision, ObligationId="urn:cisco:xacml:policy-attribute"
        )
        assignment = etree.SubElement(obligation, "AttributeAssignment", AttributeId="Policy:simplecontinue")
        value = etree.SubElement(assignment, "AttributeValue", DataType=STRING)
        # CUCM wants the CIXML as escaped text inside the AttributeValue
        value.text = etree.tostring(cixml, encoding="unicode")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class LockCache:
    """The locked extensions, re-read from the app database when older than `ttl` seconds.

    One thread refreshes while the others keep answering from the previous copy, so a slow database
    never holds up a call.
    """

    def __init__(self, engine: Engine, ttl: float):
        self.engine = engine
        self.ttl = ttl
        self._locked: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._refreshing = threading.Lock()
        _caches.add(self)

    def invalidate(self) -> None:
        """Re-read on the next request."""
        self._loaded_at = float("-inf")

    def locked(self) -> frozenset[str]:
        """The current copy (refreshed first when stale and nobody else is refreshing)."""
        stale = time.monotonic() - self._loaded_at >= self.ttl
        first = self._loaded_at == float("-inf")
        if stale and self._refreshing.acquire(blocking=first):
            try:
                if time.monotonic() - self._loaded_at >= self.ttl:
                    from warehouse.phonelock import locked_extensions

                    self._locked = locked_extensions(self.engine)
                    self._loaded_at = time.monotonic()
            finally:
                self._refreshing.release()
        return self._locked


_caches: weakref.WeakSet[LockCache] = weakref.WeakSet()


def invalidate_caches() -> None:
    """Make every policy cache of this process re-read the lock states (after a lock change here)."""
    for cache in list(_caches):
        cache.invalidate()


class PolicyPoint:
    """Answers CURRI requests for one configuration: parse, decide, respond.

    `load_settings` is called again at most every `[cucm] curri_cache_seconds`, like the lock states:
    a settings read costs file and database round trips that the call path must not pay per call.
    """

    def __init__(self, load_settings: Callable[[], Settings], engine: Engine):
        self._load_settings = load_settings
        self.settings = load_settings()
        self._settings_at = time.monotonic()
        self.cache = LockCache(engine, self.settings.cucm.curri_cache_seconds)

    def current_settings(self) -> Settings:
        """The settings, re-read when older than the cache time (one thread re-reads, the others go on)."""
        if time.monotonic() - self._settings_at >= self.settings.cucm.curri_cache_seconds:
            self._settings_at = time.monotonic()
            self.settings = self._load_settings()
            self.cache.ttl = self.settings.cucm.curri_cache_seconds
        return self.settings

    def answer(self, body: bytes) -> tuple[bytes, Decision]:
        """The XACML response to one request body, and the decision taken."""
        settings = self.current_settings()
        try:
            request = parse_request(body)
        except CurriRequestError as exc:
            decision = Decision("Indeterminate", str(exc), STATUS_SYNTAX)
        else:
            decision = decide(settings, self.cache.locked(), request)
        return response_xml(settings, decision), decision
