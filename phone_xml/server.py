"""Serve the phone service with waitress on `[phone_service] address:port` (`python -m phone_xml.server`)."""

from __future__ import annotations

import argparse

from warehouse.config import Settings, load_settings


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Run the phone service until the process is stopped (threads from `[phone_service] threads`)."""
    import waitress

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
    waitress.serve(
        app,
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
