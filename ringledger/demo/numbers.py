"""Outside numbers of the demo company: who it calls and who calls it, valid in their countries.

Every number is generated from a template and kept only if `phonenumbers` says it is a valid
number of the expected type (fixed line, mobile, toll-free, premium), so tariffs and number
classification can be tested against the demo data. Outgoing numbers are stored as CUCM records
them: with the site's outside-line access code and the country's own prefixes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType as T

from ringledger.demo.company import COMPANY_SEED, SITES, SiteSpec

# Templates: X = any digit, N = 2-9. National templates are in national format (with trunk prefix).
_NATIONAL = {
    "IT": {
        "national": ("02NXXXXXXX", "02NXXXXXXX", "06NXXXXXXX", "011NXXXXXX", "055NXXXXXX", "051NXXXXXX", "081NXXXXXX"),
        "mobile": ("320XXXXXXX", "328XXXXXXX", "333XXXXXXX", "338XXXXXXX", "340XXXXXXX", "347XXXXXXX", "349XXXXXXX"),
        "toll_free": ("800XXXXXX", "803XXXXXX"),
        "premium": ("899XXXXXX", "892XXXXXX"),
    },
    "GB": {
        "national": ("0207NXXXXXX", "0203NXXXXXX", "0161NXXXXXX", "0121NXXXXXX", "0131NXXXXXX", "0113NXXXXXX"),
        "mobile": ("074XXXXXXXX", "075XXXXXXXX", "077XXXXXXXX", "078XXXXXXXX", "079XXXXXXXX"),
        "toll_free": ("0800XXXXXXX", "0808XXXXXXX"),
        "premium": ("0906XXXXXXX", "0909XXXXXXX"),
    },
    "US": {
        "national": tuple(f"{a}NXXXXXX" for a in (212, 646, 917, 718, 347, 312, 415, 213, 617, 305, 202, 206)),
        "toll_free": ("800NXXXXXX", "888NXXXXXX", "877NXXXXXX", "866NXXXXXX"),
        "premium": ("900NXXXXXX",),
    },
}
_EXPECTED_TYPES = {
    "national": {T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE},
    "mobile": {T.MOBILE},
    "toll_free": {T.TOLL_FREE},
    "premium": {T.PREMIUM_RATE},
}
# International numbers as E.164 digits (no '+').
_INTERNATIONAL = {
    "DE": ("4930NXXXXXXX", "4989NXXXXXXX", "4940NXXXXXXX", "49151XXXXXXXX", "49170XXXXXXXX"),
    "FR": ("331NXXXXXXX", "334NXXXXXXX", "336XXXXXXXX"),
    "ES": ("3491NXXXXXX", "3493NXXXXXX", "346XXXXXXXX"),
    "CH": ("4144NXXXXXX", "4122NXXXXXX", "4179XXXXXXX"),
    "IT": ("3902NXXXXXXX", "3906NXXXXXXX", "39347XXXXXXX"),
    "GB": ("44207NXXXXXX", "44161NXXXXXX", "447700XXXXXX"),
    "US": ("1212NXXXXXX", "1415NXXXXXX", "1617NXXXXXX"),
    "MX": ("5255NXXXXXXX",),
    "JP": ("813NXXXXXXX",),
    "BR": ("55119XXXXXXXX",),
    "IN": ("9122NXXXXXXX",),
    "AU": ("612NXXXXXXX",),
    "ZA": ("2711NXXXXXX",),
    "AE": ("9714NXXXXXX",),
    "CN": ("8610NXXXXXXX",),
    "SG": ("656XXXXXXX",),
}
_INTERNATIONAL_MIX = {
    "IT": {"DE": 20, "FR": 15, "ES": 12, "CH": 15, "GB": 10, "US": 10, "JP": 3, "BR": 3, "IN": 3, "CN": 3, "AE": 3,
           "ZA": 1, "AU": 1, "SG": 1},
    "GB": {"DE": 15, "FR": 15, "ES": 10, "CH": 8, "IT": 15, "US": 17, "IN": 6, "AU": 4, "ZA": 3, "AE": 3, "SG": 2,
           "JP": 2},
    "US": {"GB": 20, "IT": 15, "DE": 12, "FR": 10, "ES": 5, "CH": 5, "MX": 13, "BR": 5, "JP": 5, "CN": 4, "IN": 4,
           "AU": 2},
}  # fmt: skip
_INTERNATIONAL_PREFIX = {"IT": "00", "GB": "00", "US": "011"}
_PATTERNS = {
    "MIL": {
        "national": "0.0[1-9]!",
        "mobile": "0.3XXXXXXXXX",
        "international": "0.00!",
        "toll_free": "0.80[03]XXXXXX",
        "premium": "0.89[0-9]XXXXXX",
    },
    "LON": {
        "national": "9.0[1-3]!",
        "mobile": "9.07XXXXXXXXX",
        "international": "9.00!",
        "toll_free": "9.080[08]XXXXXXX",
        "premium": "9.09XXXXXXXXX",
    },
    "NYC": {
        "national": "9.1[2-9]XX[2-9]XXXXXX",
        "mobile": "9.1[2-9]XX[2-9]XXXXXX",
        "international": "9.011!",
        "toll_free": "9.18XX[2-9]XXXXXX",
        "premium": "9.1900[2-9]XXXXXX",
    },
}
_PARTITION_NAMES = {
    "national": "National",
    "mobile": "Mobile",
    "international": "International",
    "toll_free": "TollFree",
    "premium": "Premium",
    "emergency": "Emergency",
}
POOL_SIZES = {"national": 300, "mobile": 300, "international": 300, "toll_free": 30, "premium": 20}


@dataclass(frozen=True)
class Destination:
    """An outside number as a site dials it."""

    dialled: str  # as CUCM records it: access code + the digits the user dialled
    pattern: str  # the route pattern it matched (finalCalledPartyPattern)
    partition: str
    kind: str  # national | mobile | international | toll_free | premium | emergency
    e164: str


@dataclass(frozen=True)
class SiteNumbers:
    """The outside world as seen from one site."""

    outgoing: dict[str, tuple[Destination, ...]]
    callers: tuple[str, ...]  # calling numbers of incoming calls, as the gateway or trunk presents them
    mobiles: tuple[Destination, ...]  # employees' own mobiles, targets of call forwarding
    call_back: tuple[Destination, ...] = ()  # callers[i] as the site dials it back (for calls it missed)


def _fill(template: str, rng: random.Random) -> str:
    out = []
    for ch in template:
        if ch == "X":
            out.append(str(rng.randrange(10)))
        elif ch == "N":
            out.append(str(rng.randrange(2, 10)))
        else:
            out.append(ch)
    return "".join(out)


def _valid_national(country: str, kind: str, rng: random.Random) -> tuple[str, str]:
    """(national format, E.164) of a valid number of this kind."""
    templates = _NATIONAL[country][kind]
    for _ in range(200):
        national = _fill(rng.choice(templates), rng)
        parsed = phonenumbers.parse(national, country)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in _EXPECTED_TYPES[kind]:
            return national, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise RuntimeError(f"no valid {country} {kind} number from {templates}")  # pragma: no cover


def _valid_international(region: str, rng: random.Random) -> str:
    """E.164 (with '+') of a valid number in `region`."""
    for _ in range(200):
        digits = _fill(rng.choice(_INTERNATIONAL[region]), rng)
        parsed = phonenumbers.parse("+" + digits)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == region:
            return "+" + digits
    raise RuntimeError(f"no valid number for {region}")  # pragma: no cover


def _dial_national(site: SiteSpec, national: str) -> str:
    if site.country == "US":
        return site.access_code + "1" + national
    return site.access_code + national


def _dial_international(site: SiteSpec, e164: str) -> str:
    return site.access_code + _INTERNATIONAL_PREFIX[site.country] + e164[1:]


def _presented(site: SiteSpec, national: str, e164: str, domestic: bool) -> str:
    """A calling number as the site's carrier presents it: national digits on the Milano PRI, +E.164 on SIP."""
    if site.country != "IT":
        return e164
    return national if domestic else "00" + e164[1:]


@lru_cache(maxsize=4)
def site_numbers(site_name: str) -> SiteNumbers:
    """The outside numbers of a site (always the same: built from the company seed)."""
    site = next(s for s in SITES if s.name == site_name)
    rng = random.Random(f"{COMPANY_SEED}:{site.code}")
    patterns = _PATTERNS[site.code]

    def partition(kind: str) -> str:
        return f"PT-{site.code}-{_PARTITION_NAMES[kind]}"

    outgoing: dict[str, list[Destination]] = {}
    for kind in ("national", "mobile", "toll_free", "premium"):
        source = kind if kind in _NATIONAL[site.country] else "national"
        pool = outgoing.setdefault(kind, [])
        seen: set[str] = set()
        while len(pool) < POOL_SIZES[kind]:
            national, e164 = _valid_national(site.country, source, rng)
            if e164 in seen:
                continue
            seen.add(e164)
            pool.append(Destination(_dial_national(site, national), patterns[kind], partition(kind), kind, e164))
    mix = _INTERNATIONAL_MIX[site.country]
    regions, weights = list(mix), list(mix.values())
    intl = outgoing.setdefault("international", [])
    for region in rng.choices(regions, weights, k=POOL_SIZES["international"]):
        e164 = _valid_international(region, rng)
        intl.append(Destination(_dial_international(site, e164), patterns["international"], partition("international"),
                                "international", e164))  # fmt: skip
    outgoing["emergency"] = [Destination(n, n, partition("emergency"), "emergency", "") for n in site.emergency_numbers]
    callers: list[str] = []
    call_back: list[Destination] = []
    for _ in range(600):
        roll = rng.random()
        if roll < 0.55 or (roll < 0.9 and "mobile" not in _NATIONAL[site.country]):
            national, e164 = _valid_national(site.country, "national", rng)
            callers.append(_presented(site, national, e164, True))
            call_back.append(
                Destination(
                    _dial_national(site, national), patterns["national"], partition("national"), "national", e164
                )
            )
        elif roll < 0.9:
            national, e164 = _valid_national(site.country, "mobile", rng)
            callers.append(_presented(site, national, e164, True))
            call_back.append(
                Destination(_dial_national(site, national), patterns["mobile"], partition("mobile"), "mobile", e164)
            )
        else:
            e164 = _valid_international(rng.choices(regions, weights)[0], rng)
            callers.append(_presented(site, "", e164, False))
            call_back.append(
                Destination(
                    _dial_international(site, e164),
                    patterns["international"],
                    partition("international"),
                    "international",
                    e164,
                )
            )
    mobiles = tuple(outgoing["mobile"][:60])
    return SiteNumbers({k: tuple(v) for k, v in outgoing.items()}, tuple(callers), mobiles, tuple(call_back))
