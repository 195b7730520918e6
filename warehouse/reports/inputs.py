"""Configuration a report query needs beside the calls, as small SQL relations with bound values.

`{{devices}}` is the CUCM device inventory (for channels per gateway and the kind of a device);
`{{numbering}}` is how each site writes outside numbers (for comparing the number of a missed call
with the number of a call back). Every value goes in as a bind parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from warehouse.reports.filters import Params

_DIGITS = re.compile(r"[0-9]+")


def devices_sql(settings, params: Params) -> str:
    """The inventory as a relation: rank (exact names first, then patterns in order), pattern, kind, label, channels."""
    rows = []
    for position, dev in enumerate(getattr(settings, "devices", []) or []):
        pattern = dev.device.lower()
        exact = not any(ch in pattern for ch in "*?[")
        rank = position if exact else 1_000_000 + position
        rows.append(
            "(cast({} as integer), cast({} as varchar), cast({} as varchar), cast({} as varchar), "
            "cast({} as integer))".format(
                params.add(rank, "d"),
                params.add(pattern, "d"),
                params.add(dev.kind, "d"),
                params.add(dev.label, "d"),
                params.add(dev.channels, "d"),
            )
        )
    if not rows:
        return (
            "(select cast(null as integer) as rank, cast(null as varchar) as pattern, cast(null as varchar) as kind, "
            "cast(null as varchar) as label, cast(null as integer) as channels where false)"
        )
    return "(select * from (values " + ", ".join(rows) + ") as t(rank, pattern, kind, label, channels))"


@dataclass(frozen=True)
class DiallingRule:
    """How a site writes outside numbers: its country code, international and national prefixes, access codes."""

    site: str
    country_code: str  # '39'
    international: str  # regular expression of the international (IDD) prefix: '00', '011'
    national: str  # the national (trunk) prefix: '0' in GB, '1' in the US, '' in Italy
    access: str  # regular expression of the outside-line access codes, '' when the CDR has none


def dialling_rule(site) -> DiallingRule:
    """The dialling rule of a configured site, from its country's numbering metadata and its access codes."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(site.country)
    international = ""
    if meta is not None:
        preferred = (meta.preferred_international_prefix or "").replace("~", "")
        if meta.international_prefix and _DIGITS.fullmatch(meta.international_prefix):
            international = meta.international_prefix
        elif _DIGITS.fullmatch(preferred):
            international = preferred
        elif meta.international_prefix:
            international = meta.international_prefix  # a pattern such as Brazil's carrier-selecting prefixes
    national = (meta.national_prefix or "") if meta is not None else ""
    if not _DIGITS.fullmatch(national):
        national = ""
    codes = [re.escape(code) for code in site.access_codes if code] if site.cdr_has_access_code else []
    code = str(phonenumbers.country_code_for_region(site.country) or "")
    # longer access codes first, so '90' is not read as '9' followed by a 0
    access = "|".join(sorted(codes, key=len, reverse=True))
    return DiallingRule(site.name, code, international, national, access)


def numbering_sql(settings, params: Params) -> str:
    """The sites' dialling rules as a relation: site, country_code, international, national, access."""
    rows = []
    for site in getattr(settings, "sites", []) or []:
        rule = dialling_rule(site)
        rows.append(
            "({}, {}, {}, {}, {})".format(
                *(
                    "cast(" + params.add(v, "n") + " as varchar)"
                    for v in (rule.site, rule.country_code, rule.international, rule.national, rule.access)
                )
            )
        )
    if not rows:
        return (
            "(select cast(null as varchar) as site, cast(null as varchar) as country_code, "
            "cast(null as varchar) as international, cast(null as varchar) as national, "
            "cast(null as varchar) as access where false)"
        )
    return "(select * from (values " + ", ".join(rows) + ") as t(site, country_code, international, national, access))"
