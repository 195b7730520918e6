"""The Jabber / Webex gadgets (G1-G4): Call Analytics, Budget and Phone Lock for the person logged in.

Each gadget is one server-rendered page under /gadgets that fits a Jabber custom tab or a Webex
embedded app from 320 px wide. People log in with their portal credentials (`warehouse.auth`,
channel "gadget"); a Jabber URL's `?user=${UserID}` only fills in the log-in form and never opens
a session by itself: a session of someone else is not used for another user's hint. Data comes
through the same scoped functions as the portal (`warehouse.access`, `warehouse.budgets`,
`warehouse.phonelock`); numbers are masked, times are in the person's zone. Plotly's JavaScript
is served from the installed plotly package: the pages load nothing from elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from importlib import resources
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, url_for

from phone_xml import web
from phone_xml.app import engine, settings
from warehouse import auth, budgets, phonelock
from warehouse.access import Principal
from warehouse.call_search import SIDES, CallQuery, outgoing_activity, search_calls, side_of
from warehouse.i18n import N_
from warehouse.reports.engine import own_scope

bp = Blueprint("gadgets", __name__, url_prefix="/gadgets", static_folder="static", static_url_path="/static")

GADGETS = {
    "gadgets.calls": N_("Call Analytics"),
    "gadgets.budget": N_("Budget"),
    "gadgets.lock": N_("Phone Lock"),
}
SIDE_LABELS = {"outgoing": N_("Outgoing"), "incoming": N_("Incoming"), "missed": N_("Missed")}
LIST_DAYS = 30  # the call list reaches this many days back
LIST_ROWS = 50


@bp.context_processor
def _template_names() -> dict:
    return {**web.template_globals(), "gadgets": GADGETS}


@bp.after_request
def _headers(resp: Response) -> Response:
    return web.secure_headers(resp)


def _page(template: str, principal: Principal | None, **values) -> str:
    token = web.session_token()
    return render_template(
        template,
        principal=principal,
        csrf=web.csrf_for(token, "session") if token and principal else "",
        **values,
    )


# --- log-in --------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: one of the gadget pages, never another site."""
    parts = urlsplit(target or "")
    gadget_paths = {url_for(endpoint) for endpoint in GADGETS}
    if parts.scheme or parts.netloc or parts.path not in gadget_paths:
        return url_for("gadgets.calls")
    return parts.path


def _login_form(status: int = 200, error: str = "", username: str = "") -> Response:
    secret = request.cookies.get(web.LOGIN_COOKIE) or web.new_login_secret()
    hint = web.usable_hint(request.values.get("user"))
    principal = web.current_principal()
    switching = principal is not None and bool(hint) and not web.hint_matches(principal, hint)
    body = render_template(
        "gadgets/login.html",
        principal=None,
        csrf=web.csrf_for(secret, "login"),
        error=error,
        username=username or hint,
        hint=hint,
        switching_from=principal.display_name or principal.user_id if switching and principal else "",
        next=_safe_next(request.values.get("next")),
    )
    resp = Response(body, status=status, content_type="text/html; charset=utf-8")
    resp.set_cookie(web.LOGIN_COOKIE, secret, **web.cookie_options())
    return resp


def _login_error(result: auth.LoginResult, username: str) -> str:
    t = web.tr()
    if result.error == auth.DIRECTORY_DOWN:
        return t.gettext(
            "The directory cannot be reached right now. Try again in a few minutes or ask your administrator."
        )
    until = auth.locked_until(engine(), username)
    if until is not None:
        minutes = max(1, int((until - datetime.now(UTC)).total_seconds() // 60) + 1)
        return t.ngettext(
            "Too many failed log-ins with this user name. Try again in {n} minute.",
            "Too many failed log-ins with this user name. Try again in {n} minutes.",
            minutes,
        ).format(n=minutes)
    return t.gettext("Unknown user name or wrong password.")


@bp.get("/login")
def login() -> Response:
    """The log-in form (user name pre-filled from a ${UserID} hint)."""
    principal = web.current_principal()
    hint = web.usable_hint(request.args.get("user"))
    if principal is not None and (not hint or web.hint_matches(principal, hint)):
        return redirect(_safe_next(request.args.get("next")))
    return _login_form()


@bp.post("/login")
def login_post() -> Response:
    """Check the credentials (same as the portal's) and open a gadget session."""
    web.check_post(request.cookies.get(web.LOGIN_COOKIE), "login")
    username = request.form.get("username", "")[:128]
    result = auth.login(
        settings(),
        engine(),
        username,
        request.form.get("password", ""),
        channel="gadget",
        remote=request.remote_addr or "",
    )
    if not result.ok or result.principal is None:
        return _login_form(401, _login_error(result, username), username)
    old = web.session_token()
    if old:
        auth.end_session(engine(), old)  # one person per browser: the previous session ends
    token = auth.start_session(settings(), engine(), result.principal, "gadget")
    resp = redirect(_safe_next(request.form.get("next")), code=303)
    web.set_session_cookie(resp, token)
    web.clear_cookie(resp, web.LOGIN_COOKIE)
    return resp


@bp.post("/logout")
def logout() -> Response:
    """End the gadget session at once."""
    token = web.session_token()
    web.check_post(token, "session")
    auth.end_session(engine(), token)
    resp = redirect(url_for("gadgets.login", next=_safe_next(request.form.get("next"))), code=303)
    web.clear_cookie(resp, web.SESSION_COOKIE)
    return resp


@bp.get("/")
@web.gadget_page
def index(principal: Principal) -> Response:
    """The gadgets' start page: Call Analytics."""
    return redirect(url_for("gadgets.calls"))


# --- Plotly, from the installed package ---------------------------------------------------------------


def plotly_path():
    """The plotly.min.js bundled with the installed plotly package."""
    return resources.files("plotly").joinpath("package_data", "plotly.min.js")


@bp.get("/assets/plotly.min.js")
def plotly_js() -> Response:
    """Plotly's JavaScript, from the plotly package (no CDN)."""
    path = plotly_path()
    resp = send_file(str(path), mimetype="text/javascript", max_age=86400, conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# --- Call Analytics (G1) -------------------------------------------------------------------------------


def portal_reports_url() -> str:
    """The portal's Interactive reports page as people's browsers reach it."""
    cfg = settings()
    base = cfg.portal.public_url.rstrip("/")
    if not base:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        base = f"{request.scheme}://{host}:{cfg.portal.port}"
    return base + "/reports"


def _chart(principal: Principal) -> dict:
    t = web.tr()
    _ = t.gettext
    act = outgoing_activity(settings(), own_scope(principal))

    def hour_label(key) -> str:
        return t.time(time(key.hour, 0), fmt="HH")

    def view(buckets, label, title) -> dict:
        calls = sum(b.calls for b in buckets)
        seconds = sum(b.duration_s for b in buckets)
        costs = [b.cost for b in buckets if b.cost is not None]
        summary = t.ngettext("{n} outgoing call", "{n} outgoing calls", calls).format(n=t.number(calls))
        summary += " · " + t.duration(seconds)
        if costs:
            summary += " · " + t.money(sum(costs), act.currency)
        return {
            "x": [label(b.key) for b in buckets],
            "y": [b.calls for b in buckets],
            "title": title,
            "summary": summary,
        }

    return {
        "views": {
            "today": view(act.hours_today, hour_label, _("Today")),
            "yesterday": view(act.hours_yesterday, hour_label, _("Yesterday")),
            "week": view(act.days, lambda d: t.date(d, "EEE d"), _("Last 7 days")),
        },
        "yaxis": _("Calls"),
        "rtl": t.rtl,
    }


def _call_rows(principal: Principal, show: str) -> tuple[list[dict], int]:
    t = web.tr()
    today = datetime.now(UTC).date()
    q = CallQuery(
        date_from=today - timedelta(days=LIST_DAYS),
        side=show if show in SIDES else None,
        limit=LIST_ROWS,
    )
    page = search_calls(settings(), own_scope(principal), q)
    zone = principal.time_zone
    rows = []
    for r in page.rows:
        side = side_of(r)
        rows.append(
            {
                "side": side,
                "side_label": t.gettext(SIDE_LABELS[side]),
                "number": r["other_number"] or "",
                "extension": r["extension"] or "",
                "when": t.datetime(r["started_at"], zone),
                "iso": r["started_at"].astimezone(UTC).isoformat(),
                "duration": t.duration(r["duration_s"]) if r["answered"] else "",
                "cost": t.money(r["cost"], r["currency"]) if r["cost"] is not None else "",
                "internal": r["direction"] == "internal",
            }
        )
    return rows, page.total


@bp.get("/calls")
@web.gadget_page
def calls(principal: Principal) -> str:
    """G1: the chart of today's, yesterday's and the week's outgoing calls, and the unified call list."""
    show = request.args.get("show", "all")
    if show not in (*SIDES, "all"):
        show = "all"
    rows, total = _call_rows(principal, show)
    return _page(
        "gadgets/calls.html",
        principal,
        active="gadgets.calls",
        chart=_chart(principal),
        rows=rows,
        total=total,
        show=show,
        filters=[("all", N_("All")), *[(s, SIDE_LABELS[s]) for s in SIDES]],
        reports_url=portal_reports_url(),
        list_days=LIST_DAYS,
        zone=principal.time_zone,
    )


# --- Budget (G2) -------------------------------------------------------------------------------------


@bp.get("/budget")
@web.gadget_page
def budget(principal: Principal) -> str:
    """G2: the person's budgets (spent, credit left as a bar, the lock warning) and recent costed calls."""
    t = web.tr()
    cfg = settings()
    statuses = budgets.my_budgets(cfg, engine(), principal)
    cards = []
    for s in statuses:
        warn_at = min(s.budget.thresholds) if s.budget.thresholds else 80
        locked = any(st.budget_locked for st in s.phones.values())
        left_pct = max(0, 100 - s.percent)
        cards.append(
            {
                "name": s.name,
                "period": f"{t.date(s.first_day)} – {t.date(s.until)}",
                "until": t.date(s.until),
                "spent": t.money(s.spent, s.budget.currency),
                "allowance": t.money(s.allowance, s.budget.currency),
                "remaining": t.money(s.remaining, s.budget.currency),
                "percent": min(s.percent, 100),
                "percent_text": t.percent(s.percent / 100, 0),
                "left_pct": left_pct,
                "left_text": t.percent(left_pct / 100, 0),
                "level": "level-spent" if s.exhausted else ("level-warn" if s.percent >= warn_at else "level-ok"),
                "locks_phone": s.budget.lock_on_exhaust,
                "exhausted": s.exhausted,
                "locked": locked,
            }
        )
    since = min((s.period_start for s in statuses), default=None)
    if since is None:
        now = datetime.now(UTC)
        since = now - timedelta(days=30)
    recent = budgets.costed_calls(cfg, own_scope(principal), since, limit=20)
    calls_out = [
        {
            "when": t.datetime(c["started_at"], principal.time_zone),
            "number": c["other_number"] or "",
            "extension": c["extension"] or "",
            "duration": t.duration(c["duration_s"]),
            "cost": t.money(c["cost"], c["currency"]),
        }
        for c in recent
    ]
    return _page("gadgets/budget.html", principal, active="gadgets.budget", cards=cards, calls=calls_out)


# --- Phone Lock (G3) -------------------------------------------------------------------------------------


@bp.get("/lock")
@web.gadget_page
def lock(principal: Principal) -> str:
    """G3: the phone's state and one button to lock or unlock it."""
    t = web.tr()
    states = phonelock.my_phone(engine(), principal)
    user_locked = any(s.user_locked for s in states.values())
    admin_locked = any(s.admin_locked for s in states.values())
    budget_locked = any(s.budget_locked for s in states.values())
    until = ""
    if budget_locked:
        held = {b for s in states.values() for b in s.budget_ids}
        ends = [s.until for s in budgets.my_budgets(settings(), engine(), principal) if s.budget.id in held]
        until = t.date(max(ends)) if ends else ""
    done = request.args.get("done", "")
    return _page(
        "gadgets/lock.html",
        principal,
        active="gadgets.lock",
        extensions=sorted(states),
        locked=any(s.locked for s in states.values()),
        user_locked=user_locked,
        admin_locked=admin_locked,
        budget_locked=budget_locked,
        until=until,
        done=done if done in ("locked", "unlocked", "none") else "",
    )


@bp.post("/lock")
@web.gadget_page
def lock_post(principal: Principal) -> Response:
    """Lock or unlock the person's own phone (an administrator's or a budget's lock stays)."""
    web.check_post(web.session_token(), "session")
    action = request.form.get("action")
    if action not in ("lock", "unlock"):
        abort(400, description="action must be lock or unlock")
    if not principal.extensions:
        return redirect(url_for("gadgets.lock", done="none"), code=303)
    phonelock.set_user_lock(settings(), engine(), principal, action == "lock")
    return redirect(url_for("gadgets.lock", done="locked" if action == "lock" else "unlocked"), code=303)
