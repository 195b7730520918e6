"""A CURRI client that asks a policy endpoint the way CUCM's External Call Control does.

CUCM posts an XACML 2.0 request with `Content-type: text/xml; charset=ISO-8859-1`,
`methodName: isRoleAccessAllowed`, `User-Agent: CiscoUCM-HttpClient/1.0` on a persistent
connection, and sends HEAD requests on it as keep-alives.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlparse

from lxml import etree

XACML_NS = "urn:oasis:names:tc:xacml:2.0:context:schema:os"
STRING = "http://www.w3.org/2001/XMLSchema#string"
ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"


def route_request(
    calling: str,
    called: str,
    transformed_calling: str | None = None,
    transformed_called: str | None = None,
    device: str = "SEP0011223344AA",
    trigger: str = "translationpattern",
) -> bytes:
    """The XACML call routing request CUCM sends for one call."""
    root = etree.Element(f"{{{XACML_NS}}}Request", nsmap={None: XACML_NS})
    subject = etree.SubElement(
        root,
        f"{{{XACML_NS}}}Subject",
        SubjectCategory="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject",
    )

    def attribute(parent, attr_id: str, value: str, datatype: str = STRING, issuer: str | None = None) -> None:
        attrs = {"AttributeId": attr_id, "DataType": datatype}
        if issuer:
            attrs["Issuer"] = issuer
        el = etree.SubElement(parent, f"{{{XACML_NS}}}Attribute", **attrs)
        etree.SubElement(el, f"{{{XACML_NS}}}AttributeValue").text = value

    attribute(subject, "urn:oasis:names:tc:xacml:1.0:subject:role-id", "CISCO:UC:UCMPolicy", issuer="requestor")
    attribute(subject, "urn:Cisco:uc:1.0:callingnumber", calling)
    attribute(subject, "urn:Cisco:uc:1.0:callednumber", called)
    attribute(subject, "urn:Cisco:uc:1.0:transformedcgpn", transformed_calling or calling)
    attribute(subject, "urn:Cisco:uc:1.0:transformedcdpn", transformed_called or called)
    attribute(subject, "urn:Cisco:uc:1.0:callingdevicename", device)
    resource = etree.SubElement(root, f"{{{XACML_NS}}}Resource")
    attribute(resource, "urn:oasis:names:tc:xacml:1.0:resource:resource-id", "CISCO:UC:VoiceOrVideoCall", ANY_URI)
    action = etree.SubElement(root, f"{{{XACML_NS}}}Action")
    attribute(action, "urn:oasis:names:tc:xacml:1.0:action:action-id", "any", ANY_URI)
    env = etree.SubElement(root, f"{{{XACML_NS}}}Environment")
    attribute(env, "urn:Cisco:uc:1.0:triggerpointtype", trigger)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


HEADERS = {
    "Accept": "*/*",
    "Content-type": "text/xml; charset=ISO-8859-1",
    "methodName": "isRoleAccessAllowed",
    "User-Agent": "CiscoUCM-HttpClient/1.0",
    "Connection": "Keep-Alive",
}


@dataclass(frozen=True)
class Answer:
    """The policy endpoint's answer: HTTP status, Decision and the CIXML instruction."""

    status: int
    decision: str
    cixml: str
    body: bytes


def parse_answer(status: int, body: bytes) -> Answer:
    """Read Decision and the escaped CIXML out of an XACML response."""
    root = etree.fromstring(body)
    decision = root.findtext("Result/Decision") or ""
    cixml = root.findtext("Result/Obligations/Obligation/AttributeAssignment/AttributeValue") or ""
    return Answer(status, decision, cixml, body)


class CurriClient:
    """One persistent connection to the policy endpoint, as one CUCM node keeps."""

    def __init__(self, url: str, timeout: float = 30.0):
        parsed = urlparse(url)
        self.path = parsed.path or "/"
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)

    def ask(self, calling: str, called: str, **kwargs) -> Answer:
        """Post one call routing request and read the decision."""
        self.conn.request("POST", self.path, body=route_request(calling, called, **kwargs), headers=HEADERS)
        resp = self.conn.getresponse()
        return parse_answer(resp.status, resp.read())

    def keepalive(self) -> int:
        """A HEAD keep-alive on the same connection; returns the HTTP status."""
        self.conn.request("HEAD", self.path, headers={"User-Agent": HEADERS["User-Agent"], "Connection": "Keep-Alive"})
        resp = self.conn.getresponse()
        resp.read()
        return resp.status

    def close(self) -> None:
        self.conn.close()
