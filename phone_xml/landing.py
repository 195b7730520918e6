"""The phone service's front page: what this service is, and where its parts are."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from phone_xml import web
from phone_xml.app import settings
from warehouse.i18n import LANGUAGES

bp = Blueprint("landing", __name__)


@bp.after_request
def _headers(resp: Response) -> Response:
    return web.secure_headers(resp)


def public_base() -> str:
    """The base URL phones and people reach this service at (`[phone_service] public_url`, else this request's)."""
    return settings().phone_service.public_url.rstrip("/") or request.host_url.rstrip("/")


@bp.get("/")
def index() -> str:
    """The landing page: gadgets, the API document and the IP phone service URL for CUCM."""
    base = public_base()
    gadgets = [
        (title, base + url_for(endpoint), base + url_for(endpoint) + "?user=${UserID}")
        for endpoint, title in (
            ("gadgets.calls", "Call Analytics"),
            ("gadgets.budget", "Budget"),
            ("gadgets.lock", "Phone Lock"),
        )
    ]
    return render_template(
        "landing.html",
        **web.template_globals(),
        principal=None,
        gadgets=gadgets,
        phone_url=base + url_for("phone.menu") + "?name=#DEVICENAME#",
        openapi_url=base + url_for("api.openapi"),
        api_url=base + "/api/v1",
        languages=LANGUAGES,
        company=settings().company.name,
        current=request.args.get("lang", ""),
    )
