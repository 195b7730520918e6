"""Dialled digits -> E.164 and a destination class, per site dial plan, with the phonenumbers library.

CUCM writes numbers as the user's dial plan left them: with the outside-line access code ("0" in
Italy, "9" in the UK and the US), national or international prefixes, '#' terminators, SIP URIs,
and numbers a translation pattern turned into an emergency call ("9911"). A `NumberingPlan` holds one
site's rules; `classify()` applies them:

1. clean: spaces, '-', '.', '(', ')' and a trailing '#' go; a SIP/tel URI gives its user part; a user
   part with letters is a directory URI (internal); '*' or '#' inside is a feature code (special);
2. a number inside the company's internal ranges is internal;
3. emergency: the site's extra emergency numbers, or the country's, on the digits as written and
   without the access code;
4. '+' numbers are taken as they are; otherwise exactly one access code is stripped (when the CDR
   carries it) and the result is parsed with the site's country, so IDD ("00", "011") and national
   prefixes work; if that is not a valid number but the other reading is, the other reading wins;
5. valid short numbers (service codes) are special, toll-free or premium by their expected cost.

Operator is the carrier the number range was originally allocated to: with number portability the
line may have moved to another carrier since, so it is indicative only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import phonenumbers as pn
import pyarrow as pa
from phonenumbers import PhoneNumberType as T
from phonenumbers import carrier, geocoder, shortnumberinfo

PHONENUMBERS_VERSION = pn.__version__

CLASS_SCHEMA = pa.schema(
    [
        pa.field("raw", pa.string()),
        pa.field("e164", pa.string()),
        pa.field("nation", pa.string()),
        pa.field("destination_type", pa.string()),
        pa.field("area", pa.string()),
        pa.field("operator", pa.string()),
        pa.field("valid", pa.bool_()),
    ]
)

_SEPARATORS = re.compile(r"[\s\-.()/]")
_FIXED = (T.FIXED_LINE, T.FIXED_LINE_OR_MOBILE)
_MOBILE = (T.MOBILE, T.FIXED_LINE_OR_MOBILE)
_TYPE = {
    T.TOLL_FREE: "toll_free",
    T.PREMIUM_RATE: "premium",
    T.MOBILE: "mobile",
    T.SHARED_COST: "special",
    T.VOIP: "special",
    T.PERSONAL_NUMBER: "special",
    T.PAGER: "special",
    T.UAN: "special",
    T.VOICEMAIL: "special",
}
_SHORT_COST = {
    shortnumberinfo.ShortNumberCost.TOLL_FREE: "toll_free",
    shortnumberinfo.ShortNumberCost.PREMIUM_RATE: "premium",
}


@dataclass(frozen=True)
class NumberingPlan:
    """One site's dial-plan facts, as far as reading dialled digits needs them."""

    country: str = ""  # ISO 3166 alpha-2 of the site; '' reads only '+' numbers
    access_codes: tuple[str, ...] = ()
    cdr_has_access_code: bool = True
    internal_ranges: tuple[tuple[str, str], ...] = ()  # inclusive, same length: ("2000", "2999")
    emergency_numbers: tuple[str, ...] = ()  # beyond the country's own, e.g. "0112", "9911"
    areas: tuple[str, ...] = ()  # geocoder area names that count as local (e.g. "Milano", "New York")
    language: str = "en"  # the site's language, for matching local area names
    _area_keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "country", (self.country or "").upper())
        # longest first, so "00" is tried before "0"
        object.__setattr__(self, "access_codes", tuple(sorted(self.access_codes, key=len, reverse=True)))
        object.__setattr__(self, "_area_keys", frozenset(_area_key(a) for a in self.areas if a))

    @property
    def profile_id(self) -> str:
        """A stable key of these rules: a change of any of them classifies the numbers afresh."""
        body = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        body["access_codes"] = sorted(body["access_codes"])
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
        return f"{self.country or 'ZZ'}-{digest}"

    def is_internal(self, digits: str) -> bool:
        """True when the digits fall inside one of the internal ranges."""
        return any(len(digits) == len(lo) and lo <= digits <= hi for lo, hi in self.internal_ranges)


@dataclass(frozen=True)
class Classification:
    """What a dialled number is: E.164 form and the classes reports group by."""

    raw: str
    e164: str | None
    nation: str | None
    destination_type: str
    area: str | None = None
    operator: str | None = None
    valid: bool = False

    @property
    def digits(self) -> str | None:
        """E.164 digits without '+', the key tariffs match prefixes on."""
        return self.e164[1:] if self.e164 else None


def _area_key(name: str) -> str:
    return name.split(",")[0].strip().casefold()


def clean(raw: str) -> tuple[str, str | None]:
    """Strip separators, '#' and URI syntax: (digits or text, the kind when it is not a number)."""
    text = (raw or "").strip()
    lowered = text.lower()
    if lowered.startswith(("sip:", "sips:", "tel:")) or "@" in text:
        text = text.split(":", 1)[1] if ":" in text.split("@")[0] else text
        text = text.split("@", 1)[0].split(";", 1)[0]
    text = _SEPARATORS.sub("", text).rstrip("#")
    if not text:
        return "", "unknown"
    if re.fullmatch(r"\+?\d+", text):
        return text, None
    if re.search(r"[A-Za-z]", text):
        return text, "internal"  # a directory URI or a name: inside the company, no carrier
    return text, "special"  # feature codes such as *67 or #31#


def _parse(candidate: str, region: str) -> pn.PhoneNumber | None:
    try:
        return pn.parse(candidate, region or "ZZ")
    except pn.NumberParseException:
        return None


def _is_emergency(candidate: str, region: str) -> bool:
    return bool(region) and candidate.isdigit() and shortnumberinfo.is_emergency_number(candidate, region)


def classify(plan: NumberingPlan, raw: str, direction: str = "out") -> Classification:
    """Classify one number as dialled at (out) or received by (in) a site with this numbering plan."""
    text, kind = clean(raw)
    region = plan.country
    if kind is not None:
        return Classification(raw, None, (region or None) if kind == "special" else None, kind)
    digits = text.lstrip("+")
    if not text.startswith("+") and plan.is_internal(digits):
        return Classification(raw, None, None, "internal", valid=True)
    stripped = None
    if not text.startswith("+"):
        for code in plan.access_codes:
            if text.startswith(code) and len(text) > len(code):
                stripped = text[len(code) :]
                break
    if (
        text in plan.emergency_numbers
        or _is_emergency(text, region)
        or (stripped is not None and (stripped in plan.emergency_numbers or _is_emergency(stripped, region)))
    ):
        return Classification(raw, None, region or None, "emergency", valid=True)
    if text.startswith("+"):
        candidates = [text]
    elif stripped is not None and direction == "out" and plan.cdr_has_access_code:
        candidates = [stripped, text]
    elif stripped is not None:
        candidates = [text, stripped]
    else:
        candidates = [text]
    parsed = [(c, _parse(c, region)) for c in candidates]
    for _c, p in parsed:
        if p is not None and pn.is_valid_number(p):
            return _describe(plan, raw, p)
    for c, p in parsed:
        if p is not None and region and len(c) <= 6 and shortnumberinfo.is_valid_short_number_for_region(p, region):
            cost = shortnumberinfo.expected_cost_for_region(p, region)
            return Classification(raw, None, region, _SHORT_COST.get(cost, "special"), valid=True)
    best = next((p for _c, p in parsed if p is not None and pn.is_possible_number(p)), None)
    e164 = pn.format_number(best, pn.PhoneNumberFormat.E164) if best is not None else None
    nation = pn.region_code_for_number(best) if best is not None else None
    return Classification(raw, e164, nation if nation and nation != "ZZ" else None, "unknown")


def _describe(plan: NumberingPlan, raw: str, p: pn.PhoneNumber) -> Classification:
    nation = pn.region_code_for_number(p)
    nation = nation if nation and len(nation) == 2 and nation != "ZZ" else None  # '001': non-geographic
    ntype = pn.number_type(p)
    area = None
    local = False
    if ntype in _FIXED:
        desc = geocoder.description_for_valid_number(p, "en")
        if desc and desc != geocoder.country_name_for_number(p, "en"):
            area = desc
            if plan._area_keys and nation == plan.country:
                local = _area_key(desc) in plan._area_keys
                if not local and plan.language and plan.language != "en":
                    local = _area_key(geocoder.description_for_valid_number(p, plan.language)) in plan._area_keys
    operator = None
    if ntype in _MOBILE:
        operator = carrier.name_for_valid_number(p, "en") or None
    if nation != plan.country or nation is None:
        dtype = "international"
    elif ntype in _FIXED:
        dtype = "local" if local else "national"
    else:
        dtype = _TYPE.get(ntype, "unknown")
    return Classification(raw, pn.format_number(p, pn.PhoneNumberFormat.E164), nation, dtype, area, operator, True)


def _classify_chunk(args: tuple[NumberingPlan, list[str], str]) -> list[tuple]:
    plan, raws, direction = args
    out = []
    for raw in raws:
        c = classify(plan, raw, direction)
        out.append((c.raw, c.e164, c.nation, c.destination_type, c.area, c.operator, c.valid))
    return out


def _as_table(rows: list[tuple]) -> pa.Table:
    cols: list[list] = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in CLASS_SCHEMA]
    return pa.table([pa.array(c, f.type) for c, f in zip(cols, CLASS_SCHEMA, strict=True)], schema=CLASS_SCHEMA)


def _plan_json(plan: NumberingPlan) -> dict:
    return {k: v for k, v in asdict(plan).items() if not k.startswith("_")}


def _in_worker(plan: NumberingPlan, raws: list[str], direction: str) -> pa.Table:
    """Classify in a child Python (`python -m tariffs.numbering`), the batch in on stdin, Arrow out on stdout.

    A child process of its own, not a multiprocessing pool: a pool would re-run the parent's main
    script in each worker (a Dagster run, a Streamlit page), and forking a process that holds
    DuckDB threads is unsafe.
    """
    payload = json.dumps({"plan": _plan_json(plan), "direction": direction, "raws": raws}).encode()
    proc = subprocess.run([sys.executable, "-m", "tariffs.numbering"], input=payload, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"number classification worker failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    with pa.ipc.open_stream(proc.stdout) as reader:
        return reader.read_all()


def classify_many(plan: NumberingPlan, raws: Sequence[str], direction: str = "out", workers: int = 1) -> pa.Table:
    """Classify many distinct numbers into a table (`CLASS_SCHEMA`); several processes when asked."""
    raws = list(raws)
    if workers > 1 and len(raws) >= 20_000:
        size = -(-len(raws) // workers)
        chunks = [raws[i : i + size] for i in range(0, len(raws), size)]
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            parts = list(pool.map(lambda chunk: _in_worker(plan, chunk, direction), chunks))
        return pa.concat_tables(parts).cast(CLASS_SCHEMA)
    return _as_table(_classify_chunk((plan, raws, direction)))


def _worker_main() -> None:
    """The child side of `_in_worker`: a JSON batch on stdin, the classes as an Arrow stream on stdout."""
    job = json.loads(sys.stdin.buffer.read())
    spec = job["plan"]
    plan = NumberingPlan(
        **{
            **spec,
            "access_codes": tuple(spec["access_codes"]),
            "internal_ranges": tuple(tuple(r) for r in spec["internal_ranges"]),
            "emergency_numbers": tuple(spec["emergency_numbers"]),
            "areas": tuple(spec["areas"]),
        }
    )
    table = _as_table(_classify_chunk((plan, job["raws"], job["direction"])))
    with pa.ipc.new_stream(sys.stdout.buffer, table.schema) as writer:
        writer.write_table(table)


def default_workers() -> int:
    """Processes worth using for a large batch of new numbers on this machine."""
    return max(1, min(os.cpu_count() or 1, 4))


def numbering_plan(
    country: str,
    access_codes: Iterable[str] = (),
    *,
    cdr_has_access_code: bool = True,
    internal_ranges: Iterable[str] = (),
    emergency_numbers: Iterable[str] = (),
    areas: Iterable[str] = (),
    language: str = "en",
) -> NumberingPlan:
    """A numbering plan from configuration-style values ('2000-2999' ranges)."""
    ranges = []
    for text in internal_ranges:
        lo, _, hi = text.partition("-")
        lo, hi = lo.strip(), (hi or lo).strip()
        if not (lo.isdigit() and hi.isdigit() and len(lo) == len(hi) and lo <= hi):
            raise ValueError(f"internal range {text!r} must look like 2000-2999")
        ranges.append((lo, hi))
    return NumberingPlan(
        country=country,
        access_codes=tuple(access_codes),
        cdr_has_access_code=cdr_has_access_code,
        internal_ranges=tuple(ranges),
        emergency_numbers=tuple(emergency_numbers),
        areas=tuple(areas),
        language=language,
    )


if __name__ == "__main__":
    _worker_main()
