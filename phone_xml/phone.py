"""The Cisco IP Phone service: phone lock with a PIN, change of PIN, status and the pushed lock notice.

Configure it in CUCM as an IP phone service whose URL passes the phone's name:
`http://<ringledger>:8502/phone/menu?name=#DEVICENAME#`. The phone is mapped to its extension and
owner by `warehouse.phonelock.device_owner` (a stored mapping, AXL getPhone when configured, else
the phone's latest call in the CDRs). Every page is one XML object (Content-Type text/xml) in the
owner's language; results of a PIN entry carry an Expires date in the past so that the phone does
not keep them in its history (Back never re-sends a PIN).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request, url_for

from phone_xml.app import engine, settings
from warehouse import ipphone, phonelock
from warehouse.access import Principal, load_principal
from warehouse.lock_texts import clock, day, translate

bp = Blueprint("phone", __name__, url_prefix="/phone")

EXPIRED = "Thu, 01 Jan 1970 00:00:00 GMT"


def _xml(body: bytes, *, expired: bool = False) -> Response:
    resp = Response(body, status=200, content_type=ipphone.CONTENT_TYPE)
    resp.headers["Cache-Control"] = "no-store"
    if expired:
        resp.headers["Expires"] = EXPIRED
    return resp


def _abs(endpoint: str, **params) -> str:
    """An absolute URL for the phone (phones do not resolve relative URLs)."""
    base = settings().phone_service.public_url.rstrip("/") or request.host_url.rstrip("/")
    return base + url_for(endpoint, **params)


class Caller:
    """The phone asking, its extension, its owner and the owner's language."""

    def __init__(self, device: str, extension: str, principal: Principal, lang: str):
        self.device = device
        self.extension = extension
        self.principal = principal
        self.lang = lang

    def t(self, msgid: str, **values) -> str:
        return translate(msgid, self.lang, **values)

    def back_keys(self) -> list[ipphone.SoftKey]:
        return [
            ipphone.SoftKey(self.t("Back"), _abs("phone.menu", name=self.device), 1),
            ipphone.SoftKey(self.t("Exit"), "SoftKey:Exit", 3),
        ]

    def result(self, message: str, *, expired: bool = True) -> Response:
        state = phonelock.lock_state(engine(), self.extension)
        prompt = self.t("Phone locked") if state.locked else self.t("Phone unlocked")
        return _xml(ipphone.text(self.t("Phone lock"), prompt, message, self.back_keys()), expired=expired)


def _problem(msgid: str, lang: str | None = None) -> Response:
    lang = lang or settings().company.language
    body = ipphone.text(
        translate("Phone lock", lang),
        "",
        translate(msgid, lang),
        [ipphone.SoftKey(translate("Exit", lang), "SoftKey:Exit", 3)],
    )
    return _xml(body, expired=True)


def phone_page(view: Callable[[Caller], Response]) -> Callable[[], Response]:
    """Resolve ?name=SEP... to its extension and owner, or answer why not."""

    @wraps(view)
    def wrapper() -> Response:
        device = phonelock.valid_device_name(request.args.get("name"))
        if device is None:
            return _problem("The service URL must pass the phone's name (#DEVICENAME#).")
        cfg, db = settings(), engine()
        owner = phonelock.device_owner(cfg, db, device)
        principal = load_principal(db, owner.user_id) if owner and owner.user_id else None
        if owner is None or principal is None or owner.extension not in principal.extensions:
            return _problem("This phone is not known yet. Make a call from it, or ask your administrator.")
        phonelock.seen_device(db, device, request.remote_addr, request.headers.get("x-CiscoIPPhoneModelName"))
        lang = phonelock.language_of(cfg, db, principal.user_id)
        return view(Caller(device, owner.extension, principal, lang))

    return wrapper


@bp.get("/menu")
@phone_page
def menu(c: Caller) -> Response:
    """The main menu: lock or unlock, change PIN, status."""
    state = phonelock.lock_state(engine(), c.extension)
    items = [
        (c.t("Unlock phone"), _abs("phone.unlock", name=c.device))
        if state.locked
        else (c.t("Lock phone"), _abs("phone.lock", name=c.device)),
        (c.t("Change PIN"), _abs("phone.pin", name=c.device)),
        (c.t("Status"), _abs("phone.status", name=c.device)),
    ]
    keys = [ipphone.SoftKey(c.t("Select"), "SoftKey:Select", 1), ipphone.SoftKey(c.t("Exit"), "SoftKey:Exit", 3)]
    prompt = c.t("Phone locked") if state.locked else c.t("Phone unlocked")
    return _xml(ipphone.menu(c.t("Phone lock"), prompt, items, keys))


def _pin_form(c: Caller, title: str, target: str) -> Response:
    if not phonelock.has_pin(engine(), c.principal.user_id):
        return c.result(c.t("No PIN is set for you yet. Ask your administrator for one."))
    field = ipphone.InputItem(c.t("PIN"), "pin", "NP")
    return _xml(ipphone.input_form(title, c.t("Enter your PIN"), _abs(target, name=c.device), [field]))


@bp.get("/lock")
@phone_page
def lock(c: Caller) -> Response:
    """Ask for the PIN before locking."""
    return _pin_form(c, c.t("Lock phone"), "phone.lock_done")


@bp.get("/unlock")
@phone_page
def unlock(c: Caller) -> Response:
    """Ask for the PIN before unlocking."""
    return _pin_form(c, c.t("Unlock phone"), "phone.unlock_done")


def _pin_failure(c: Caller, check: phonelock.PinResult) -> Response:
    cfg = settings()
    if check.reason == "no_pin":
        return c.result(c.t("No PIN is set for you yet. Ask your administrator for one."))
    if check.reason == "locked_out" and check.locked_until is not None:
        zone = ZoneInfo(c.principal.time_zone or cfg.company.time_zone)
        return c.result(
            c.t("Too many wrong PINs. Try again after {time}.", time=clock(check.locked_until.astimezone(zone), c.lang))
        )
    if check.reason in ("invalid", "weak"):
        return c.result(_pin_rule(c, check.reason))
    if check.reason == "mismatch":
        return c.result(c.t("The two new PINs differ."))
    return c.result(c.t("Wrong PIN. Attempts left: {remaining}.", remaining=check.remaining))


def _pin_rule(c: Caller, reason: str) -> str:
    if reason == "weak":
        return c.t("Choose a PIN that is not a sequence or one digit repeated.")
    return c.t("A PIN has {length} digits.", length=settings().phone_lock.pin_length)


def _set(c: Caller, locked: bool) -> Response:
    cfg, db = settings(), engine()
    check = phonelock.verify_pin(cfg, db, c.principal.user_id, request.args.get("pin", ""))
    if not check.ok:
        return _pin_failure(c, check)
    state = phonelock.set_user_lock(cfg, db, c.principal, locked, [c.extension])[c.extension]
    if locked:
        return c.result(c.t("Your phone is locked. Outgoing calls are blocked; emergency numbers still work."))
    if state.admin_locked:
        return c.result(c.t("Your administrator has locked this phone; only an administrator can unlock it."))
    if state.budget_locked:
        until = _budget_until(c, state)
        if until is None:
            return c.result(
                c.t(
                    "Outgoing calls are blocked ({reason}). Emergency numbers still work.",
                    reason=c.t("locked: budget spent"),
                )
            )
        return c.result(c.t("Your budget is spent: the phone stays locked until {until}.", until=until))
    return c.result(c.t("Your phone is unlocked."))


def _budget_until(c: Caller, state: phonelock.LockState) -> str | None:
    from warehouse import budgets

    held = [s for s in budgets.my_budgets(settings(), engine(), c.principal) if s.budget.id in state.budget_ids]
    return day(max(s.until for s in held), c.lang) if held else None


@bp.get("/lock/done")
@phone_page
def lock_done(c: Caller) -> Response:
    """Check the PIN and lock."""
    return _set(c, True)


@bp.get("/unlock/done")
@phone_page
def unlock_done(c: Caller) -> Response:
    """Check the PIN and unlock (an admin or budget lock stays)."""
    return _set(c, False)


@bp.get("/pin")
@phone_page
def pin(c: Caller) -> Response:
    """Ask for the old PIN and the new one twice."""
    if not phonelock.has_pin(engine(), c.principal.user_id):
        return c.result(c.t("No PIN is set for you yet. Ask your administrator for one."))
    fields = [
        ipphone.InputItem(c.t("Old PIN"), "old", "NP"),
        ipphone.InputItem(c.t("New PIN"), "new", "NP"),
        ipphone.InputItem(c.t("Repeat new PIN"), "again", "NP"),
    ]
    return _xml(
        ipphone.input_form(c.t("Change PIN"), c.t("Enter your PIN"), _abs("phone.pin_done", name=c.device), fields)
    )


@bp.get("/pin/done")
@phone_page
def pin_done(c: Caller) -> Response:
    """Change the PIN when the old one is right and the new one acceptable."""
    args = request.args
    check = phonelock.change_pin(
        settings(), engine(), c.principal.user_id, args.get("old", ""), args.get("new", ""), args.get("again", "")
    )
    if not check.ok:
        return _pin_failure(c, check)
    return c.result(c.t("Your PIN has been changed."))


def _state_lines(c: Caller) -> list[str]:
    from warehouse import budgets

    state = phonelock.lock_state(engine(), c.extension)
    reasons = []
    if state.admin_locked:
        reasons.append(c.t("locked by the administrator"))
    if state.budget_locked:
        reasons.append(c.t("locked: budget spent"))
    if state.user_locked:
        reasons.append(c.t("locked by you"))
    lines = [c.t("Extension {extension}: {state}.", extension=c.extension, state=", ".join(reasons) or c.t("unlocked"))]
    for s in budgets.my_budgets(settings(), engine(), c.principal):
        lines.append(
            c.t(
                "{budget}: {spent} of {allowance} spent, {remaining} left until {until}.",
                budget=s.name,
                spent=_money(s.spent, s.budget.currency, c.lang),
                allowance=_money(s.allowance, s.budget.currency, c.lang),
                remaining=_money(s.remaining, s.budget.currency, c.lang),
                until=day(s.until, c.lang),
            )
        )
    return lines


def _money(amount, currency: str, lang: str) -> str:
    from warehouse.lock_texts import money

    return money(amount, currency, lang)


@bp.get("/status")
@phone_page
def status(c: Caller) -> Response:
    """The lock state and the budgets of the phone's owner."""
    return c.result("\n".join(_state_lines(c)), expired=False)


@bp.get("/notice")
@phone_page
def notice(c: Caller) -> Response:
    """The page a pushed CiscoIPPhoneExecute opens: the lock state in a sentence."""
    state = phonelock.lock_state(engine(), c.extension)
    if not state.locked:
        return c.result(c.t("Your phone is unlocked."))
    reason = (
        c.t("locked by the administrator")
        if state.admin_locked
        else c.t("locked: budget spent")
        if state.budget_locked
        else c.t("locked by you")
    )
    return c.result(c.t("Outgoing calls are blocked ({reason}). Emergency numbers still work.", reason=reason))
