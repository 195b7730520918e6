"""The CURRI policy endpoint CUCM's External Call Control profile points at (POST /curri).

CUCM posts one XACML request per call matching a pattern with the profile and keeps its connections
alive with HEAD requests; both are answered here. The decision (warehouse.curri) comes from an
in-memory copy of the lock states, so the answer never waits on the database.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from phone_xml.app import engine, settings
from warehouse.curri import PolicyPoint

bp = Blueprint("curri", __name__)


def _policy_point() -> PolicyPoint:
    ext = current_app.extensions["ringledger"]
    point = ext.get("policy_point")
    if point is None:
        # settings changed at run time (enforcement mode, sites' dial plans) apply within the cache time
        point = ext.setdefault("policy_point", PolicyPoint(settings, engine()))
    return point


@bp.route("/curri", methods=["POST", "HEAD", "GET"])
def policy() -> Response:
    """Answer a call routing request (POST) or a keep-alive (HEAD, GET)."""
    if request.method != "POST":
        return Response(b"", status=200, content_type="text/plain")
    body, decision = _policy_point().answer(request.get_data(cache=False))
    if decision.decision != "Permit":
        current_app.logger.info("CURRI %s: %s", decision.decision, decision.reason)
    return Response(body, status=200, content_type="text/xml; charset=utf-8")
