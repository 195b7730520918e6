"""What the phone service's web pages share: languages, security headers, gadget sessions and CSRF.

Pages are server-rendered Jinja templates (autoescaped) in the person's language. Every HTML answer
carries a Content-Security-Policy that lets the page load only from this service (scripts, styles,
Plotly's bundled JavaScript) and be framed only by this service and the origins in
`[gadgets] frame_ancestors`; X-Frame-Options SAMEORIGIN is added when no other origin may frame it.

A gadget session is an opaque token from `warehouse.auth` (channel "gadget", lifetime
`[sessions.minutes] gadget`) in an HttpOnly cookie, Secure over HTTPS, SameSite as configured. Every
POST must come from this service's own pages: a cross-site Origin (or Sec-Fetch-Site) is refused,
and the form must carry the CSRF token of its session (an HMAC of the session token, so nothing more
is stored), or, for the log-in form, the token bound to a pre-login cookie.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import Response, abort, g, request

from phone_xml.app import engine, settings
from warehouse import auth
from warehouse.access import Principal
from warehouse.i18n import LANGUAGES, Translator, normalise_language, translator
from warehouse.preferences import person_language, person_zone

SESSION_COOKIE = "rl_gadget"
LOGIN_COOKIE = "rl_gadget_login"
COOKIE_PATH = "/gadgets"


# --- language ------------------------------------------------------------------------------------


def browser_language() -> str:
    """The language for someone not logged in: ?lang=, else the browser's, else the portal's default."""
    chosen = request.args.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(list(LANGUAGES))
    if best:
        return best
    cfg = settings()
    return normalise_language(cfg.portal.default_language or cfg.company.language)


def tr() -> Translator:
    """The translator of the current request (the person's language, else the browser's)."""
    if "tr" not in g:
        g.tr = translator(browser_language())
    return g.tr


def template_globals() -> dict:
    """Names every template can use: _, ngettext, the translator and the text direction."""
    t = tr()
    return {
        "_": t.gettext,
        "ngettext": t.ngettext,
        "tr": t,
        "lang": t.language,
        "direction": "rtl" if t.rtl else "ltr",
    }


# --- headers ---------------------------------------------------------------------------------------


def frame_ancestors() -> list[str]:
    """The sources allowed to frame a page: this service, plus the configured origins."""
    return ["'self'", *settings().gadgets.frame_ancestors]


def secure_headers(resp: Response) -> Response:
    """Content-Security-Policy and friends for an HTML page of this service."""
    ancestors = frame_ancestors()
    resp.headers["Content-Security-Policy"] = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Plotly writes style elements and attributes as it draws
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors " + " ".join(ancestors),
        ]
    )
    if len(ancestors) == 1:
        resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


# --- cookies ---------------------------------------------------------------------------------------


def _is_https() -> bool:
    return request.is_secure or settings().phone_service.public_url.startswith("https://")


def cookie_options() -> dict:
    """Attributes of the gadget cookies: HttpOnly, Secure over HTTPS, SameSite as configured."""
    same_site = settings().gadgets.cookie_same_site
    https = _is_https()
    if same_site == "None" and not https:
        same_site = "Lax"  # browsers refuse SameSite=None without Secure
    options = {"httponly": True, "secure": https, "samesite": same_site, "path": COOKIE_PATH}
    if same_site == "None":
        options["partitioned"] = True
    return options


def set_session_cookie(resp: Response, token: str) -> None:
    """Hand the browser its session token (lasting as long as the session)."""
    minutes = auth.session_lifetime(settings(), "gadget").total_seconds()
    resp.set_cookie(SESSION_COOKIE, token, max_age=int(minutes), **cookie_options())


def clear_cookie(resp: Response, name: str) -> None:
    """Make the browser forget a cookie."""
    options = cookie_options()
    resp.delete_cookie(
        name, path=options["path"], secure=options["secure"], httponly=True, samesite=options["samesite"]
    )


# --- sessions --------------------------------------------------------------------------------------


def session_token() -> str | None:
    """The gadget session token the browser sent."""
    return request.cookies.get(SESSION_COOKIE) or None


def current_principal() -> Principal | None:
    """The person of a live gadget session, with their language and zone, or None."""
    if "principal" in g:
        return g.principal
    cfg, db = settings(), engine()
    principal = auth.session_principal(cfg, db, session_token(), "gadget")
    if principal is not None:
        principal = dataclasses.replace(
            principal,
            language=person_language(cfg, db, principal.user_id),
            time_zone=person_zone(cfg, db, principal.user_id),
        )
        g.tr = translator(principal.language)
    g.principal = principal
    return principal


def hint_matches(principal: Principal, hint: str) -> bool:
    """True when a Jabber ${UserID} hint names this person (user name, mail address, or name@domain)."""
    wanted = hint.strip().lower()
    me = principal.user_id.lower()
    return wanted in (me, (principal.email or "").lower()) or wanted.split("@", 1)[0] == me


def usable_hint(raw: str | None) -> str:
    """The ${UserID} hint of a gadget URL, or '' when absent or not substituted by the client."""
    hint = (raw or "").strip()
    if not hint or "${" in hint or len(hint) > 128:
        return ""
    return hint


# --- CSRF ------------------------------------------------------------------------------------------


def csrf_for(secret: str, purpose: str) -> str:
    """The CSRF token bound to a session (or pre-login) secret."""
    return hmac.new(secret.encode(), f"ringledger {purpose} csrf".encode(), hashlib.sha256).hexdigest()


def same_origin_request() -> bool:
    """False for a request a browser marks as coming from another site."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        allowed = {request.host_url.rstrip("/")}
        public = settings().phone_service.public_url
        if public:
            parts = urlsplit(public)
            allowed.add(f"{parts.scheme}://{parts.netloc}")
        return origin.rstrip("/") in allowed
    if origin == "null":
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def check_post(secret: str | None, purpose: str) -> None:
    """Refuse (403) a POST from another site or without the right CSRF token."""
    if not same_origin_request():
        abort(403, description="cross-site")
    sent = request.form.get("csrf", "")
    if not secret or not sent or not hmac.compare_digest(sent, csrf_for(secret, purpose)):
        abort(403, description="csrf")


def new_login_secret() -> str:
    """A fresh pre-login secret (kept in a cookie; the form carries its CSRF token)."""
    return secrets.token_urlsafe(24)


def gadget_page(view: Callable[[Principal], Response | str]) -> Callable[[], Response | str]:
    """A gadget page for a logged-in person; anyone else (or a different ${UserID} hint) is asked to log in."""
    from flask import redirect, url_for

    @wraps(view)
    def wrapper():
        principal = current_principal()
        hint = usable_hint(request.args.get("user"))
        if principal is None or (hint and not hint_matches(principal, hint)):
            target = request.path
            params = {"next": target}
            if hint:
                params["user"] = hint
            if principal is not None:
                params["switch"] = "1"
            return redirect(url_for("gadgets.login", **params))
        return view(principal)

    return wrapper
