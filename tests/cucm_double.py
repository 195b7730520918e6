"""A small stand-in for CUCM on 127.0.0.1, for tests and demos: AXL getLine / updateLine / getPhone,
and a phone's /CGI/Execute.

    python tests/cucm_double.py --port 8443 --state DIR [--user axl --password secret --version 14.0]

DIR/lines.json holds the lines ([{"pattern", "partition", "css"}]) and DIR/phones.json the phones
([{"name", "owner", "lines": [{"index", "pattern", "partition"}]}]); both are read at start.
Every request is recorded, with its headers, SOAPAction, namespace and Basic-auth user, in
DIR/requests.jsonl. Answers follow the AXL SOAP shapes: `<ns:getLineResponse><return><line uuid>`,
`<ns:updateLineResponse><return>{uuid}</return>`, `<ns:getPhoneResponse><return><phone>`, and SOAP
faults (HTTP 500, `<axlError><axlcode>`) for unknown lines or malformed requests. Control:
POST /_control/fail?count=N makes the next N AXL requests answer HTTP 503.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


class State:
    def __init__(self, folder: Path, user: str, password: str, version: str):
        self.folder = folder
        self.user = user
        self.password = password
        self.version = version
        self.lock = threading.Lock()
        self.fail_next = 0
        self.lines: dict[tuple[str, str], dict] = {}
        for line in self._read("lines.json"):
            key = (line["pattern"], line.get("partition", ""))
            self.lines[key] = {"css": line.get("css", ""), "uuid": "{" + str(uuid.uuid4()).upper() + "}"}
        self.phones = {p["name"].upper(): p for p in self._read("phones.json")}

    def _read(self, name: str) -> list:
        path = self.folder / name
        return json.loads(path.read_text()) if path.exists() else []

    def record(self, entry: dict) -> None:
        with self.lock, (self.folder / "requests.jsonl").open("a") as fh:
            fh.write(json.dumps(entry) + "\n")

    def save_lines(self) -> None:
        data = [{"pattern": p, "partition": pt, "css": v["css"]} for (p, pt), v in sorted(self.lines.items())]
        (self.folder / "lines_now.json").write_text(json.dumps(data))


def envelope(version: str, body: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS})
    b = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
    b.append(body)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault(version: str, text: str, code: int, operation: str) -> bytes:
    f = etree.Element(f"{{{SOAP_NS}}}Fault")
    etree.SubElement(f, "faultcode").text = "soapenv:Client"
    etree.SubElement(f, "faultstring").text = text
    detail = etree.SubElement(f, "detail")
    err = etree.SubElement(detail, "axlError")
    etree.SubElement(err, "axlcode").text = str(code)
    etree.SubElement(err, "axlmessage").text = text
    etree.SubElement(err, "request").text = operation
    return envelope(version, f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State

    def log_message(self, format, *args):  # quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urlparse(self.path).path
        if path == "/_control/lines":
            with self.state.lock:
                data = [{"pattern": p, "partition": pt, "css": v["css"]} for (p, pt), v in self.state.lines.items()]
            return self._send(200, json.dumps(data).encode(), "application/json")
        if path == "/_control/health":
            return self._send(200, b"ok", "text/plain")
        return self._send(404, b"not found", "text/plain")

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if url.path == "/_control/fail":
            self.state.fail_next = int(parse_qs(url.query).get("count", ["1"])[0])
            return self._send(200, b"ok", "text/plain")
        if url.path == "/CGI/Execute":
            return self._execute(raw)
        if url.path.rstrip("/") == "/axl":
            return self._axl(raw)
        return self._send(404, b"not found", "text/plain")

    def _auth_user(self) -> tuple[str, bool]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return "", False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, (user == self.state.user and password == self.state.password)

    def _execute(self, raw: bytes) -> None:
        form = parse_qs(raw.decode("utf-8"))
        user, ok = self._auth_user()
        self.state.record({"path": "/CGI/Execute", "user": user, "xml": form.get("XML", [""])[0], "authorized": ok})
        if not ok:
            body = b'<?xml version="1.0" encoding="utf-8"?><CiscoIPPhoneError Number="4"/>'
            return self._send(200, body)
        body = (
            b'<?xml version="1.0" encoding="utf-8"?><CiscoIPPhoneResponse>'
            b'<ResponseItem Status="0" Data="Success" URL=""/></CiscoIPPhoneResponse>'
        )
        return self._send(200, body)

    def _axl(self, raw: bytes) -> None:
        st = self.state
        user, ok = self._auth_user()
        entry = {
            "path": "/axl/",
            "soap_action": self.headers.get("SOAPAction", ""),
            "content_type": self.headers.get("Content-Type", ""),
            "user": user,
            "authorized": ok,
            "body": raw.decode("utf-8", "replace"),
            "operation": "",
            "namespace": "",
        }
        if not ok:
            st.record(entry)
            return self._send(401, b"Unauthorized", "text/plain")
        try:
            root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            body = root.find(f"{{{SOAP_NS}}}Body")
            op = next(c for c in body if isinstance(c.tag, str))
        except Exception as exc:
            st.record(entry)
            return self._send(500, fault(st.version, f"malformed request: {exc}", 5002, "?"))
        qname = etree.QName(op)
        entry["operation"] = qname.localname
        entry["namespace"] = qname.namespace or ""
        st.record(entry)
        if st.fail_next > 0:
            st.fail_next -= 1
            return self._send(503, b"Service Unavailable", "text/plain")
        if qname.namespace != f"http://www.cisco.com/AXL/API/{st.version}":
            return self._send(500, fault(st.version, f"unknown namespace {qname.namespace}", 5002, qname.localname))
        expected = f'"CUCM:DB ver={st.version} {qname.localname}"'
        if self.headers.get("SOAPAction", "") != expected:
            return self._send(500, fault(st.version, "SOAPAction does not match the operation", 5002, qname.localname))
        ns = qname.namespace
        if qname.localname == "getLine":
            key = (op.findtext("pattern") or "", op.findtext("routePartitionName") or "")
            with st.lock:
                line = st.lines.get(key)
            if line is None:
                return self._send(
                    500, fault(st.version, "Item not valid: The specified Line was not found", 5007, "getLine")
                )
            resp = etree.Element(f"{{{ns}}}getLineResponse", nsmap={"ns": ns})
            ret = etree.SubElement(resp, "return")
            el = etree.SubElement(ret, "line", uuid=line["uuid"])
            etree.SubElement(el, "pattern").text = key[0]
            etree.SubElement(el, "routePartitionName").text = key[1]
            css = etree.SubElement(el, "shareLineAppearanceCssName")
            css.text = line["css"]
            return self._send(200, envelope(st.version, resp))
        if qname.localname == "updateLine":
            key = (op.findtext("pattern") or "", op.findtext("routePartitionName") or "")
            with st.lock:
                line = st.lines.get(key)
                if line is not None and op.find("shareLineAppearanceCssName") is not None:
                    line["css"] = op.findtext("shareLineAppearanceCssName") or ""
                    st.save_lines()
            if line is None:
                return self._send(
                    500, fault(st.version, "Item not valid: The specified Line was not found", 5007, "updateLine")
                )
            resp = etree.Element(f"{{{ns}}}updateLineResponse", nsmap={"ns": ns})
            etree.SubElement(resp, "return").text = line["uuid"]
            return self._send(200, envelope(st.version, resp))
        if qname.localname == "getPhone":
            phone = st.phones.get((op.findtext("name") or "").upper())
            if phone is None:
                return self._send(
                    500, fault(st.version, "Item not valid: The specified Phone was not found", 5007, "getPhone")
                )
            resp = etree.Element(f"{{{ns}}}getPhoneResponse", nsmap={"ns": ns})
            ret = etree.SubElement(resp, "return")
            el = etree.SubElement(ret, "phone", uuid="{" + str(uuid.uuid4()).upper() + "}")
            etree.SubElement(el, "name").text = phone["name"]
            etree.SubElement(el, "ownerUserName").text = phone.get("owner", "")
            lines = etree.SubElement(el, "lines")
            for ln in phone.get("lines", []):
                line_el = etree.SubElement(lines, "line")
                etree.SubElement(line_el, "index").text = str(ln["index"])
                dirn = etree.SubElement(line_el, "dirn")
                etree.SubElement(dirn, "pattern").text = ln["pattern"]
                etree.SubElement(dirn, "routePartitionName").text = ln.get("partition", "")
            return self._send(200, envelope(st.version, resp))
        return self._send(500, fault(st.version, f"unknown operation {qname.localname}", 5002, qname.localname))


def main() -> None:
    parser = argparse.ArgumentParser(description="CUCM double: AXL and phone /CGI/Execute on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--user", default="axl")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--version", default="14.0")
    args = parser.parse_args()
    Handler.state = State(args.state, args.user, args.password, args.version)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
