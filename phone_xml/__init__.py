"""The phone service: Cisco IP Phone XML services, the CURRI policy endpoint (Flask, app factory)."""

from phone_xml.app import create_app

__all__ = ["create_app"]
