"""Serve the phone service with waitress on `[phone_service] address:port` (`python -m phone_xml.server`)."""

from __future__ import annotations

import argparse
import logging

import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from warehouse.config import Settings, load_settings


class WaitingChannel(HTTPChannel):
    """waitress's connection, not reported writable while its worker thread is sending on it.

    A worker writes its answer into the connection's buffer and sends it itself, holding the buffer's
    lock; it wakes the main loop when it leaves anything unsent, and again when it is done. waitress
    still reported such a connection writable, so its main loop spun: each turn went over every open
    connection, found the lock taken, and went round again, holding the GIL the workers needed to
    finish. CURRI answers fell from 900/s with 50 connections to 30/s with 400.
    """

    def writable(self) -> bool:
        if self.will_close or self.close_when_flushed or not self.requests:
            return super().writable()
        if not self.total_outbufs_len or not self.outbuf_lock.acquire(blocking=False):
            return False
        self.outbuf_lock.release()
        return True


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Run the phone service until the process is stopped (threads from `[phone_service] threads`)."""
    from phone_xml.app import create_app

    app = create_app(settings)
    settings = settings or load_settings()
    proxy = {}
    if settings.phone_service.trusted_proxy:
        # HTTPS ends at the proxy: believe what it says of the scheme, host and port it was reached by
        proxy = {
            "trusted_proxy": settings.phone_service.trusted_proxy,
            "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"},
            "clear_untrusted_proxy_headers": True,
        }
    sockets: dict = {}
    server = waitress.create_server(
        app,
        map=sockets,
        host=host or settings.phone_service.address,
        port=settings.phone_service.port if port is None else port,
        threads=settings.phone_service.threads,
        # waitress accepts 100 connections by default: more than that (a soak with 400) waited unserved
        connection_limit=settings.phone_service.max_connections,
        ident="Ringledger",
        # CUCM keeps its CURRI connections open between calls; do not drop them too early
        channel_timeout=300,
        **proxy,
    )
    for dispatcher in sockets.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = WaitingChannel
    logging.basicConfig()
    server.print_listen("Serving on http://{}:{}")
    server.run()


def main(argv: list[str] | None = None) -> int:
    """Command line: serve, optionally on another address or port."""
    parser = argparse.ArgumentParser(prog="python -m phone_xml.server", description=__doc__)
    parser.add_argument("--host", help="address to listen on (default: [phone_service] address)")
    parser.add_argument("--port", type=int, help="port to listen on (default: [phone_service] port)")
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
