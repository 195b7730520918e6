"""What a dialled number is, as far as a lock needs to know: emergency, internal or outside.

Emergency numbers are never blocked. A number is an emergency number when, with or without one of a
site's outside-line access codes, it is in that site's `emergency_numbers` or is an emergency number
of the site's country (phonenumbers' short-number metadata). When the calling site is unknown every
configured site is asked (every country when no site is configured): a lock errs on letting an
emergency call through, never on blocking it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from phonenumbers import shortnumberinfo

_CLEAN = re.compile(r"[\s\-.()/]")


def clean(number: str) -> str:
    """Digits as dialled: spaces, dashes, dots and brackets removed, a trailing '#' dropped."""
    return _CLEAN.sub("", number or "").rstrip("#")


@lru_cache(maxsize=4096)
def _country_emergency(number: str, country: str) -> bool:
    try:
        return bool(number) and shortnumberinfo.is_emergency_number(number, country)
    except Exception:  # phonenumbers raises on odd input; a non-number is not an emergency number
        return False


def _variants(number: str, access_codes: list[str]) -> list[str]:
    out = [number]
    for code in access_codes:
        if code and number.startswith(code) and len(number) > len(code):
            out.append(number[len(code) :])
    return out


def is_emergency(settings, number: str, site: str | None = None) -> bool:
    """True when the dialled number reaches an emergency service from that site (or any site)."""
    digits = clean(number)
    if not digits:
        return False
    chosen = settings.site(site) if site else None
    sites = [chosen] if chosen is not None else list(settings.sites)
    for s in sites:
        variants = _variants(digits, s.access_codes)
        if any(v in s.emergency_numbers for v in variants):
            return True
        if any(_country_emergency(v, s.country) for v in variants):
            return True
    if not sites:
        # no site configured: an emergency number of any country counts
        return _any_country_emergency(digits)
    return False


@lru_cache(maxsize=4096)
def _any_country_emergency(number: str) -> bool:
    if len(number) > 8:
        return False
    return any(_country_emergency(number, region) for region in sorted(shortnumberinfo.SUPPORTED_SHORT_REGIONS))


def is_internal(settings, number: str) -> bool:
    """True when the number is inside the company (an internal range, or short when none is configured)."""
    digits = clean(number)
    if not digits:
        return True
    ranges = [r for s in settings.sites for r in s.ranges]
    if ranges:
        return any(r.contains(digits) for r in ranges)
    return digits.isdigit() and len(digits) <= settings.phone_lock.internal_max_digits
