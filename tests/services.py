"""Fixtures for real services on 127.0.0.1: an SMTP server (aiosmtpd), the CUCM double, the phone service.

Loaded for every test through `pytest_plugins` in tests/conftest.py. Servers run on free ports, as
subprocesses started with Popen where the product would talk to another process, stopped by PID.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    """Poll a URL until it answers; fail with the server's log if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout} s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server started by a fixture, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- SMTP --------------------------------------------------------------------------------------------


@dataclass
class Received:
    """A message as the SMTP server got it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Collect:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_server():
    """A plain SMTP server on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", free_port())
    ctl = Controller(_Collect(server), hostname=server.host, port=server.port)
    ctl.start()
    yield server
    ctl.stop()


@pytest.fixture
def smtp_tls_server(tmp_path):
    """An SMTP server that requires STARTTLS and a login (user 'mailer', password 'mailpw')."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = SmtpServer("127.0.0.1", free_port())

    def authenticator(smtp, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and auth_data.password == b"mailpw"
        if ok:
            server.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    ctl = Controller(
        _Collect(server),
        hostname=server.host,
        port=server.port,
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    ctl.start()
    server.cert = cert  # type: ignore[attr-defined]
    yield server
    ctl.stop()


# --- CUCM double ------------------------------------------------------------------------------------


@dataclass
class CucmDouble:
    url: str
    base: str
    state: Path
    user: str
    password: str
    version: str

    def requests(self, path: str = "/axl/") -> list[dict]:
        """Every request the double received on a path, oldest first."""
        log = self.state / "requests.jsonl"
        if not log.exists():
            return []
        return [r for r in (json.loads(x) for x in log.read_text().splitlines()) if r["path"] == path]

    def lines(self) -> dict[str, str]:
        """The current calling search space of every line (pattern -> CSS)."""
        with urllib.request.urlopen(self.base + "/_control/lines", timeout=5) as resp:
            return {ln["pattern"]: ln["css"] for ln in json.loads(resp.read())}

    def fail_next(self, count: int) -> None:
        """Make the next `count` AXL requests answer HTTP 503."""
        req = urllib.request.Request(f"{self.base}/_control/fail?count={count}", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=5).read()


@pytest.fixture
def cucm_double(tmp_path):
    """The CUCM double with lines 2001, 2002, 2003 (CSS_INTERNATIONAL, partition PT_LINES) and two phones."""
    state = tmp_path / "cucm"
    state.mkdir()
    lines = [{"pattern": ext, "partition": "PT_LINES", "css": "CSS_INTERNATIONAL"} for ext in ("2001", "2002", "2003")]
    (state / "lines.json").write_text(json.dumps(lines))
    phones = [
        {
            "name": "SEP00AABBCC2001",
            "owner": "anna",
            "lines": [{"index": 1, "pattern": "2001", "partition": "PT_LINES"}],
        },
        {
            "name": "SEP00AABBCC2002",
            "owner": "bruno",
            "lines": [{"index": 1, "pattern": "2002", "partition": "PT_LINES"}],
        },
    ]
    (state / "phones.json").write_text(json.dumps(phones))
    port = free_port()
    log = tmp_path / "cucm.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "cucm_double.py"), "--port", str(port), "--state", str(state)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/_control/health", proc, log)
        yield CucmDouble(base + "/axl/", base, state, "axl", "secret", "14.0")
    finally:
        stop(proc)


# --- the phone service, live ---------------------------------------------------------------------------


@dataclass
class LiveService:
    url: str
    proc: subprocess.Popen


@pytest.fixture
def phone_service_factory(tmp_path):
    """Start the phone service (python -m phone_xml.server) on a free port for a data home."""
    started: list[subprocess.Popen] = []

    def start(home: Path, env: dict[str, str] | None = None) -> LiveService:
        port = free_port()
        log = tmp_path / f"phone-service-{port}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "phone_xml.server", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT,
                env={**os.environ, "RINGLEDGER_HOME": str(home), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        wait_for_http(f"http://127.0.0.1:{port}/health", proc, log)
        return LiveService(f"http://127.0.0.1:{port}", proc)

    yield start
    for proc in started:
        stop(proc)
