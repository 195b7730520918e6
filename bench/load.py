"""Load on loopback: many keep-alive HTTP/1.1 connections at once, every answer checked, latencies kept.

`run_load()` opens `connections` sockets to a live service and sends requests on each, one after
another, until `requests` are done or `seconds` have passed; each answer's status and body are
checked by the caller's predicate, so "zero errors" means zero wrong answers too. The tests use it
briefly (and assert correctness only); `python -m bench.soak` runs it longer and, where the Debian
`wrk` is installed, measures throughput and latency with wrk as well.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One request: method, path, body, headers."""

    method: str
    path: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LoadResult:
    """What a load run did: answers, errors, seconds, latencies (ms)."""

    name: str
    connections: int
    answers: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answers per second."""
        return self.answers / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The latency (ms) below which p percent of the answers came."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _encode(req: Request, host: str) -> bytes:
    head = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(req.body)}"]
    head += [f"{k}: {v}" for k, v in req.headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + req.body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if m:
        return status, await reader.readexactly(int(m.group(1)))
    if re.search(rb"(?i)\r\ntransfer-encoding:\s*chunked", head):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, await reader.read()


async def _load(
    url: str,
    requests: list[Request],
    check: Callable[[Request, int, bytes], bool],
    connections: int,
    total: int,
    seconds: float,
    result: LoadResult,
) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    deadline = time.perf_counter() + seconds
    sent = 0

    async def worker(n: int) -> None:
        nonlocal sent
        reader = writer = None
        i = n
        while sent < total and time.perf_counter() < deadline:
            sent += 1
            req = requests[i % len(requests)]
            i += connections
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(_encode(req, f"{host}:{port}"))
                await writer.drain()
                assert reader is not None
                status, body = await asyncio.wait_for(_read_answer(reader), timeout=60)
                ok = check(req, status, body)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                ok, status, body = False, 0, repr(exc).encode()
                writer = None
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.answers += 1
            if not ok:
                result.errors += 1
                if len(result.samples) < 5:
                    result.samples.append(f"{req.method} {req.path}: {status} {body[:200]!r}")
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker(n) for n in range(connections)))


def run_load(
    name: str,
    url: str,
    requests: list[Request],
    check: Callable[[Request, int, bytes], bool],
    *,
    connections: int = 200,
    total: int = 2000,
    seconds: float = 600,
) -> LoadResult:
    """Send `total` requests (cycling through `requests`) over `connections` connections; every answer checked."""
    result = LoadResult(name, connections)
    started = time.perf_counter()
    asyncio.run(_load(url, requests, check, connections, total, seconds, result))
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class WrkResult:
    """wrk's own figures for one endpoint."""

    name: str
    connections: int
    seconds: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def held_connections(url: str, req: Request, connections: int, timeout: float = 60) -> list[int]:
    """Open `connections` connections and keep them all open; then one request on each, answered while
    every other connection stays open (as phones and CURRI clients do). The status of each answer, 0
    for none within `timeout` seconds."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def held() -> list[int]:
        streams = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in range(connections)))

        async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
            writer.write(_encode(req, f"{host}:{port}"))
            await writer.drain()
            try:
                status, _body = await asyncio.wait_for(_read_answer(reader), timeout=timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                return 0
            return status

        try:
            return list(await asyncio.gather(*(ask(r, w) for r, w in streams)))
        finally:
            for _r, w in streams:
                w.close()

    return asyncio.run(held())


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(name: str, url: str, *, connections: int, seconds: int, threads: int = 2, script: str = "") -> WrkResult:
    """Run the Debian `wrk` against one URL (a Lua `script` may set method, body and headers)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if script:
        argv += ["-s", script]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, flags=re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return WrkResult(name, connections, seconds, rps, _ms(lat["50"]), _ms(lat["99"]), errors, total)


def have_wrk() -> bool:
    """True when the Debian wrk is installed."""
    return shutil.which("wrk") is not None
