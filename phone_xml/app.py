"""The phone service's Flask application: `create_app(settings=None)` with one blueprint per feature."""

from __future__ import annotations

import importlib

from flask import Flask, current_app, g

from warehouse import appdb
from warehouse.config import Settings, load_settings

# "module:attribute" of every blueprint the phone service serves.
BLUEPRINTS = [
    "phone_xml.phone:bp",
    "phone_xml.curri:bp",
    "phone_xml.gadgets:bp",
    "phone_xml.api:bp",
    "phone_xml.landing:bp",
]


def create_app(settings: Settings | None = None) -> Flask:
    """The phone service for these settings; without them, the configuration is read at every request,
    so settings an administrator changes at run time apply at once."""
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    initial = settings or load_settings()
    # bodies past the limit are refused (413) before anything reads them
    app.config["MAX_CONTENT_LENGTH"] = initial.phone_service.max_request_kb * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = initial.phone_service.max_request_kb * 1024
    app.extensions["ringledger"] = {"settings": settings, "engine": appdb.open_db(initial)}
    for ref in BLUEPRINTS:
        module, _, attr = ref.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), attr))

    @app.get("/healthz")
    @app.get("/health")
    def health():
        return {"status": "ok"}

    return app


def settings() -> Settings:
    """The settings of the application handling the current request, read once per request: a read
    costs a file check and a database round trip, and a phone page asks for them many times."""
    fixed = current_app.extensions["ringledger"]["settings"]
    if fixed is not None:
        return fixed
    if "ringledger_settings" not in g:
        g.ringledger_settings = load_settings()
    return g.ringledger_settings


def engine():
    """The app database of the application handling the current request."""
    return current_app.extensions["ringledger"]["engine"]
