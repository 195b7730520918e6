"""A small AXL (CUCM Administrative XML) client: getLine, updateLine and getPhone over SOAP 1.1.

Requests are built with lxml: a SOAP 1.1 envelope whose body holds one operation element in the
namespace `http://www.cisco.com/AXL/API/<version>` with unqualified children, posted to the AXL URL
(`https://<cucm>:8443/axl/`) with HTTP Basic authentication and the header
`SOAPAction: "CUCM:DB ver=<version> <operation>"`. Responses are parsed the same way; a SOAP fault
becomes an AxlError carrying the fault string and the AXL error code.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# Never resolve entities or fetch anything while parsing what a server sent.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


def axl_namespace(version: str) -> str:
    """The AXL schema namespace of a CUCM version such as '14.0'."""
    return f"http://www.cisco.com/AXL/API/{version}"


def soap_action(version: str, operation: str) -> str:
    """The SOAPAction header value AXL expects for an operation (quoted, as in the WSDL)."""
    return f'"CUCM:DB ver={version} {operation}"'


class AxlError(Exception):
    """An AXL request failed: transport, HTTP status, SOAP fault or an unexpected answer."""

    def __init__(self, message: str, *, status: int | None = None, fault: str = "", code: str = ""):
        super().__init__(message)
        self.status = status
        self.fault = fault
        self.code = code

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed (connection trouble, throttling, server errors)."""
        return (
            self.status is None or self.status in (429, 502, 503, 504, 599) or (self.status >= 500 and not self.fault)
        )


Field = tuple[str, "str | None | list[Field]"]


def _add(parent: etree._Element, fields: list[Field]) -> None:
    for name, value in fields:
        child = etree.SubElement(parent, name)
        if isinstance(value, list):
            _add(child, value)
        elif value is not None:
            child.text = value


def build_envelope(version: str, operation: str, fields: list[Field]) -> bytes:
    """A SOAP 1.1 envelope for one AXL operation; `fields` are (name, text | None | nested fields)."""
    nsmap = {"soapenv": SOAP_NS, "ns": axl_namespace(version)}
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap=nsmap)
    etree.SubElement(envelope, f"{{{SOAP_NS}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
    op = etree.SubElement(body, f"{{{axl_namespace(version)}}}{operation}")
    _add(op, fields)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def parse_response(content: bytes, status: int, operation: str) -> etree._Element:
    """The operation's response element, or AxlError for a fault, an HTTP error or garbage."""
    try:
        root = etree.fromstring(content, parser=_PARSER) if content else None
    except etree.XMLSyntaxError:
        root = None
    body = root.find(f"{{{SOAP_NS}}}Body") if root is not None else None
    if body is None:
        snippet = content[:200].decode("utf-8", "replace").strip()
        raise AxlError(f"{operation}: HTTP {status}, not a SOAP answer: {snippet!r}", status=status)
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    if fault is not None:
        text = (fault.findtext("faultstring") or "").strip()
        code = (fault.findtext(".//axlcode") or "").strip()
        message = (fault.findtext(".//axlmessage") or "").strip()
        raise AxlError(
            f"{operation}: {text or message or 'SOAP fault'}" + (f" (AXL error {code})" if code else ""),
            status=status,
            fault=text or message,
            code=code,
        )
    if status >= 400:
        raise AxlError(f"{operation}: HTTP {status}", status=status)
    for child in body:
        if isinstance(child.tag, str) and etree.QName(child).localname == f"{operation}Response":
            return child
    raise AxlError(f"{operation}: the answer holds no {operation}Response", status=status)


@dataclass(frozen=True)
class Line:
    """A directory number as AXL getLine returns it."""

    uuid: str
    pattern: str
    partition: str
    css: str  # shareLineAppearanceCssName: the line's calling search space ("" = none)


@dataclass(frozen=True)
class PhoneLine:
    """One line of a phone: its button index, number and partition."""

    index: int
    pattern: str
    partition: str


@dataclass(frozen=True)
class Phone:
    """A phone as AXL getPhone returns it: its owner and its lines."""

    name: str
    owner: str
    lines: tuple[PhoneLine, ...]


class AxlClient:
    """AXL over one HTTP session (HTTP Basic auth, TLS verified unless configured otherwise)."""

    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        version: str = "14.0",
        timeout: float = 10.0,
        verify: bool | str = True,
    ):
        self.url = url
        self.version = version
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (user, password)
        self.session.verify = verify
        self.session.trust_env = False

    def call(self, operation: str, fields: list[Field]) -> etree._Element:
        """Send one operation and return its parsed response element."""
        body = build_envelope(self.version, operation, fields)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": soap_action(self.version, operation)}
        try:
            resp = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AxlError(f"{operation}: cannot reach {self.url}: {exc}") from exc
        if resp.status_code == 401:
            raise AxlError(f"{operation}: the AXL user or password is wrong (HTTP 401)", status=401)
        return parse_response(resp.content, resp.status_code, operation)

    def get_line(self, pattern: str, partition: str) -> Line:
        """The directory number with its line calling search space."""
        resp = self.call(
            "getLine",
            [
                ("pattern", pattern),
                ("routePartitionName", partition),
                (
                    "returnedTags",
                    [("pattern", None), ("routePartitionName", None), ("shareLineAppearanceCssName", None)],
                ),
            ],
        )
        line = resp.find("return/line")
        if line is None:
            raise AxlError(f"getLine {pattern}: the answer holds no line")
        return Line(
            uuid=line.get("uuid", ""),
            pattern=(line.findtext("pattern") or pattern).strip(),
            partition=(line.findtext("routePartitionName") or "").strip(),
            css=(line.findtext("shareLineAppearanceCssName") or "").strip(),
        )

    def update_line_css(self, pattern: str, partition: str, css: str) -> str:
        """Set the line's calling search space ("" clears it); returns the line's uuid."""
        resp = self.call(
            "updateLine",
            [("pattern", pattern), ("routePartitionName", partition), ("shareLineAppearanceCssName", css)],
        )
        return (resp.findtext("return") or "").strip()

    def get_phone(self, name: str) -> Phone:
        """A phone's owner user and lines."""
        resp = self.call(
            "getPhone",
            [
                ("name", name),
                (
                    "returnedTags",
                    [
                        ("name", None),
                        ("ownerUserName", None),
                        (
                            "lines",
                            [("line", [("index", None), ("dirn", [("pattern", None), ("routePartitionName", None)])])],
                        ),
                    ],
                ),
            ],
        )
        phone = resp.find("return/phone")
        if phone is None:
            raise AxlError(f"getPhone {name}: the answer holds no phone")
        lines = []
        for line in phone.findall("lines/line"):
            try:
                index = int(line.findtext("index") or 0)
            except ValueError:
                index = 0
            lines.append(
                PhoneLine(
                    index=index,
                    pattern=(line.findtext("dirn/pattern") or "").strip(),
                    partition=(line.findtext("dirn/routePartitionName") or "").strip(),
                )
            )
        return Phone(
            name=(phone.findtext("name") or name).strip(),
            owner=(phone.findtext("ownerUserName") or "").strip(),
            lines=tuple(sorted(lines, key=lambda ln: ln.index)),
        )


def client(settings) -> AxlClient:
    """The AXL client of the configuration's [cucm] section."""
    cfg = settings.cucm
    if not (cfg.axl_url and cfg.axl_user):
        raise AxlError("AXL is not configured: [cucm] axl_url and axl_user are empty")
    verify: bool | str = cfg.axl_ca_file or cfg.axl_verify_tls
    return AxlClient(cfg.axl_url, cfg.axl_user, cfg.axl_password, cfg.axl_version, cfg.axl_timeout_seconds, verify)
