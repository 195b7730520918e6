"""The open JSON API (X11) under /api/v1: a person's calls, reports, budgets and phone lock, by token.

Every request carries `Authorization: Bearer <token>`, a personal token made in the portal (My
account > API tokens) or with `ringledger tokens create`. The token acts for its owner with the
owner's current rights, through the same scoped functions as the portal and the gadgets: calls and
reports read `my_calls` (warehouse.access), numbers come back masked for the owner's role, and no
parameter can widen the scope. Errors are always `{"error": {"status", "code", "message", "field"}}`.
The OpenAPI 3.1 document at /api/v1/openapi.json is generated from the same route table and models
the views use, so it says exactly what is accepted and returned.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from phone_xml import api_models as m
from phone_xml.app import engine, settings
from warehouse import api_tokens, budgets, phonelock
from warehouse.access import Principal
from warehouse.call_search import CallQuery, SearchError, search_calls
from warehouse.i18n import translator
from warehouse.preferences import person_language, person_zone
from warehouse.reports import FilterError, Filters, list_reports, run_report
from warehouse.reports.catalogue import CATEGORIES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFIX = "/api/v1"
REPORT_NAME = r"^[a-z0-9_]{1,100}$"


class ApiError(Exception):
    """An error answer: status, stable code, message and, when it is one, the field at fault."""

    def __init__(self, status: int, code: str, message: str, field_name: str | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field_name
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, field_name: str | None = None, headers=None) -> Response:
    """The JSON body every error has."""
    body = m.Error(error=m.ErrorBody(status=status, code=code, message=message, field=field_name))
    resp = jsonify(body.model_dump(mode="json"))
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """JSON for HTTP errors under /api/v1 (unknown paths and methods too); other paths keep Flask's pages."""
    if not request.path.startswith(PREFIX):
        return exc
    status = exc.code or 500
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    code = _HTTP_CODES.get(status, "error")
    return error_response(status, code, exc.description or code.replace("_", " "), None, headers)


# --- tokens and rate limiting -------------------------------------------------------------------------


class RateLimiter:
    """At most N requests per token in any 60 seconds (in this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, deque[float]] = {}

    def allow(self, key: int, per_minute: int, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        if per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= per_minute:
                return max(0.0, 60 - (now - seen[0]))
            seen.append(now)
            return 0.0


def _limiter() -> RateLimiter:
    ext = current_app.extensions["ringledger"]
    if "api_rate" not in ext:
        ext.setdefault("api_rate", RateLimiter())
    return ext["api_rate"]


def authenticate() -> tuple[Principal, api_tokens.TokenInfo]:
    """The token's owner (with their language and zone), or ApiError 401 / 429."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="ringledger"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "send a personal API token: Authorization: Bearer <token>", None, challenge)
    found = api_tokens.token_principal(engine(), secret.strip())
    if found is None:
        raise ApiError(
            401,
            "invalid_token",
            "the token is unknown, revoked or expired",
            None,
            {"WWW-Authenticate": 'Bearer realm="ringledger", error="invalid_token"'},
        )
    principal, token = found
    wait = _limiter().allow(token.id, settings().api.requests_per_minute)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            "too many requests with this token; try again later",
            None,
            {"Retry-After": str(int(wait) + 1)},
        )
    cfg, db = settings(), engine()
    principal = dataclasses.replace(
        principal,
        language=person_language(cfg, db, principal.user_id),
        time_zone=person_zone(cfg, db, principal.user_id),
    )
    return principal, token


# --- the route table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One API operation: what the OpenAPI document says of it."""

    method: str
    path: str  # Flask rule under /api/v1, e.g. /reports/<name>
    operation_id: str
    summary: str
    description: str
    response: type[BaseModel] | None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = False
    errors: tuple[int, ...] = ()
    auth: bool = True
    tags: tuple[str, ...] = ()
    path_params: dict[str, dict] = field(default_factory=dict)


ROUTES: list[Route] = []


def endpoint(route: Route) -> Callable:
    """Register a view for a route: authentication, parsed query and body, JSON out."""

    def register(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**kwargs):
            if route.auth:
                g.api_principal, g.api_token = authenticate()
            args: dict[str, Any] = dict(kwargs)
            if route.query is not None:
                args["query"] = _parse(route.query, request.args.to_dict(), "query")
            if route.body is not None:
                args["body"] = _body(route.body, route.body_required)
            result = view(**args)
            if isinstance(result, Response):
                return result
            resp = jsonify(result.model_dump(mode="json", by_alias=True))
            resp.headers["Cache-Control"] = "no-store"
            return resp

        bp.add_url_rule(route.path, route.operation_id, wrapper, methods=[route.method])
        ROUTES.append(route)
        return wrapper

    return register


def _parse(model: type[BaseModel], data: dict, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ApiError(400, "invalid_parameter", f"{loc or where}: {message}", loc) from None


def _body(model: type[BaseModel], required: bool) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "invalid_body", "a JSON body is required", None)
        return model()
    if not (request.mimetype or "").endswith("json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json", None)
    try:
        data = request.get_json(force=True)
    except HTTPException:
        raise ApiError(400, "invalid_body", "the body is not valid JSON", None) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object", None)
    return _parse(model, data, "body")


def me() -> Principal:
    """The person the current API request acts for."""
    return g.api_principal


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    return value


def _phone_state(state: phonelock.LockState) -> m.PhoneState:
    return m.PhoneState(
        extension=state.extension,
        locked=state.locked,
        status=state.status,  # type: ignore[arg-type]
        user_locked=state.user_locked,
        admin_locked=state.admin_locked,
        budget_locked=state.budget_locked,
        user_can_unlock=state.user_can_unlock,
    )


# --- operations ------------------------------------------------------------------------------------------


@endpoint(
    Route(
        "GET",
        "/openapi.json",
        "openapi",
        "This document",
        "The OpenAPI 3.1 description of the API.",
        None,
        auth=False,
        tags=("meta",),
    )
)
def openapi() -> Response:
    """The OpenAPI document of this API."""
    from phone_xml.openapi import document

    resp = jsonify(document(request.host_url.rstrip("/") + PREFIX))
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@endpoint(
    Route(
        "GET",
        "/me",
        "get_me",
        "Who the token acts for",
        "The token's owner: role, language, time zone and extensions.",
        m.Me,
        tags=("account",),
    )
)
def get_me() -> m.Me:
    """The token's owner."""
    p, token = me(), g.api_token
    return m.Me(
        user_id=p.user_id,
        display_name=p.display_name,
        role=p.role,  # type: ignore[arg-type]
        language=p.language,
        time_zone=p.time_zone,
        extensions=list(p.extensions),
        token=m.TokenRef(id=token.id, name=token.name, expires_at=token.expires_at),
    )


@endpoint(
    Route(
        "GET",
        "/calls",
        "list_calls",
        "The person's calls",
        "Calls the token's owner may see, newest first, with filters and pages (pass next_cursor as cursor). "
        "Only calls that count (as in reports) are listed; outside numbers are masked for the owner's role.",
        m.CallPage,
        query=m.CallsQuery,
        errors=(400,),
        tags=("calls",),
    )
)
def list_calls(query: m.CallsQuery) -> m.CallPage:
    """A page of calls."""
    q = CallQuery(
        date_from=query.date_from,
        date_to=query.date_to,
        direction=query.direction,
        side=query.side,
        extension=query.extension,
        number=query.number,
        status=query.status,
        limit=query.limit,
        cursor=query.cursor,
    )
    try:
        page = search_calls(settings(), me(), q)
    except SearchError as exc:
        name = {"date_from": "from", "date_to": "to"}.get(exc.field, exc.field)
        raise ApiError(400, "invalid_parameter", str(exc), name) from None
    calls = [m.Call(**{**r, "cost": _money(r["cost"]), "mos": r["mos"]}) for r in page.rows]
    return m.CallPage(
        calls=calls,
        total=page.total,
        limit=query.limit,
        next_cursor=page.next_cursor,
        time_zone=page.zone,
        date_from=page.date_from,
        date_to=page.date_to,
    )


@endpoint(
    Route(
        "GET",
        "/reports",
        "list_reports",
        "The report catalogue",
        "Every catalogue report with the question it answers, in the owner's language.",
        m.ReportList,
        tags=("reports",),
    )
)
def get_reports() -> m.ReportList:
    """The catalogue."""
    t = translator(me().language)
    return m.ReportList(
        reports=[
            m.ReportInfo(
                name=r.name,
                category=r.category,
                category_title=t.gettext(CATEGORIES[r.category].title),
                title=t.gettext(r.title),
                question=t.gettext(r.question),
                kind=r.kind,  # type: ignore[arg-type]
            )
            for r in list_reports()
        ]
    )


@endpoint(
    Route(
        "POST",
        "/reports/<name>/run",
        "run_report",
        "Run a catalogue report",
        "Runs the report in the owner's scope with the options given (the same Filters JSON as the portal, "
        "saved reports and `ringledger report run --filter`); an empty body runs it with its defaults.",
        m.ReportResult,
        body=Filters,
        errors=(400, 404, 415),
        tags=("reports",),
        path_params={"name": {"type": "string", "pattern": REPORT_NAME, "description": "The report's name."}},
    )
)
def post_report(name: str, body: Filters) -> m.ReportResult:
    """One report run."""
    names = {r.name for r in list_reports()}
    if name not in names:
        raise ApiError(404, "not_found", f"no report named {name!r} (GET /api/v1/reports lists them)", "name")
    filters = body if request.get_data(cache=True).strip() else None
    try:
        result = run_report(settings(), me(), name, filters)
    except FilterError as exc:
        raise ApiError(400, "invalid_filter", str(exc), _filter_field(str(exc))) from None
    except ValueError as exc:
        raise ApiError(400, "invalid_filter", str(exc), None) from None
    return m.ReportResult(
        name=result.name,
        title=result.title,
        question=result.question,
        kind=result.kind,
        description=result.description,
        time_zone=result.zone,
        currency=result.currency,
        generated_at=result.generated_at,
        truncated=result.truncated,
        columns=[m.Column(key=c.key, label=c.label, kind=c.kind) for c in result.columns],
        rows=[[_cell(v) for v in row] for row in result.rows],
        totals={k: _cell(v) for k, v in result.totals.items()},
    )


def _filter_field(message: str) -> str | None:
    head = message.split(":", 1)[0].strip()
    return head if head and " " not in head else None


@endpoint(
    Route(
        "GET",
        "/budgets",
        "list_budgets",
        "The person's budgets",
        "Every budget that applies to the owner (own, department, cost centre) with its current period.",
        m.BudgetList,
        tags=("budgets",),
    )
)
def get_budgets() -> m.BudgetList:
    """My budgets."""
    out = []
    for s in budgets.my_budgets(settings(), engine(), me()):
        b = s.budget
        out.append(
            m.Budget(
                id=b.id,
                name=s.name,
                scope=b.scope,  # type: ignore[arg-type]
                subject=b.subject,
                period=b.period,  # type: ignore[arg-type]
                currency=b.currency,
                amount=format(b.amount, "f"),
                allowance=format(s.allowance, "f"),
                spent=format(s.spent, "f"),
                remaining=format(s.remaining, "f"),
                percent=s.percent,
                exhausted=s.exhausted,
                lock_on_exhaust=b.lock_on_exhaust,
                period_start=s.period_start,
                period_end=s.period_end,
                first_day=s.first_day,
                until=s.until,
                phones=[_phone_state(st) for st in s.phones.values()],
            )
        )
    return m.BudgetList(budgets=out)


def _phone() -> m.Phone:
    states = phonelock.my_phone(engine(), me())
    return m.Phone(locked=any(s.locked for s in states.values()), extensions=[_phone_state(s) for s in states.values()])


@endpoint(
    Route(
        "GET",
        "/phone",
        "get_phone",
        "The person's phone lock state",
        "The lock state of every extension assigned to the owner.",
        m.Phone,
        tags=("phone",),
    )
)
def get_phone() -> m.Phone:
    """My phone."""
    return _phone()


def _set_lock(body: m.LockRequest, locked: bool) -> m.Phone:
    try:
        phonelock.set_user_lock(settings(), engine(), me(), locked, body.extensions)
    except PermissionError:
        raise ApiError(403, "forbidden", "only your own extensions can be locked or unlocked", "extensions") from None
    except ValueError as exc:
        raise ApiError(409, "no_extension", str(exc), None) from None
    return _phone()


@endpoint(
    Route(
        "POST",
        "/phone/lock",
        "lock_phone",
        "Lock the person's phone",
        "Sets the owner's own lock on their extensions (all, or those listed): no outgoing calls outside "
        "the company; emergency numbers always work.",
        m.Phone,
        body=m.LockRequest,
        errors=(400, 403, 409, 415),
        tags=("phone",),
    )
)
def lock_phone(body: m.LockRequest) -> m.Phone:
    """Lock."""
    return _set_lock(body, True)


@endpoint(
    Route(
        "POST",
        "/phone/unlock",
        "unlock_phone",
        "Unlock the person's phone",
        "Removes the owner's own lock. An administrator's lock or a spent budget's lock stays (see status).",
        m.Phone,
        body=m.LockRequest,
        errors=(400, 403, 409, 415),
        tags=("phone",),
    )
)
def unlock_phone(body: m.LockRequest) -> m.Phone:
    """Unlock."""
    return _set_lock(body, False)
