"""The tariffs folder ($RINGLEDGER_HOME/tariffs): reading any format, checking uploads line by line,
installing plans, adding and closing versions, listing."""

from __future__ import annotations

import io
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from tariffs.book import FORMATS, detect_format
from tariffs.cgrates import is_cgrates_folder, read_cgrates
from tariffs.deck import DeckOptions, parse_billing, read_deck
from tariffs.model import Plan, TariffError, check_plan_name
from tariffs.own import is_own_plan, order_versions, read_plan, write_plan
from warehouse.config import Settings


def installed(settings: Settings) -> list[str]:
    """Names of the plans in the tariffs folder."""
    folder = settings.tariffs_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / "plan.toml").is_file())


def install(
    settings: Settings, plan: Plan, *, replace_existing: bool = False, valid_from: datetime | None = None
) -> Path:
    """Store a plan in the tariffs folder; with `valid_from`, add it as a new version of an existing plan."""
    target = settings.tariffs_dir / plan.name
    if target.exists() and (target / "plan.toml").is_file():
        if valid_from is not None:
            current = read_plan(target)
            if current.currency != plan.currency:
                raise TariffError(
                    target / "plan.toml",
                    f"the plan is in {current.currency}, the new version in {plan.currency}",
                    None,
                    "currency",
                )
            new_versions = [
                replace(v, valid_from=valid_from, valid_to=None, id=valid_from.date().isoformat())
                for v in plan.versions[-1:]
            ]
            kept = [v for v in current.versions if v.valid_from is None or v.valid_from < valid_from]
            if any(v.id == new_versions[0].id for v in kept):
                raise TariffError(
                    target / "plan.toml", f"a version {new_versions[0].id!r} already exists", None, "versions"
                )
            # the version in force at valid_from now ends there; later versions are superseded
            kept = [
                replace(v, valid_to=valid_from if v.valid_to is None or v.valid_to > valid_from else v.valid_to)
                for v in kept
            ]
            plan = replace(current, versions=order_versions([*kept, *new_versions], target / "plan.toml"))
        elif not replace_existing:
            raise TariffError(
                target,
                f"plan {plan.name!r} is already installed: give --valid-from DATE to add a version, or --replace",
            )
    elif valid_from is not None:
        plan = replace(plan, versions=tuple(replace(v, valid_from=valid_from) for v in plan.versions))
    settings.tariffs_dir.mkdir(parents=True, exist_ok=True)
    staging = settings.tariffs_dir / f".{plan.name}.{uuid.uuid4().hex[:8]}"
    write_plan(plan, staging)
    read_plan(staging)  # what was written must read back
    old = None
    if target.exists():
        old = settings.tariffs_dir / f".{plan.name}.old.{uuid.uuid4().hex[:8]}"
        target.replace(old)
    staging.replace(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


# --- reading any supported format --------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """What a deck or CGRateS plan does not carry, given on import (the own format carries them all)."""

    name: str = ""  # plan name (own/deck); for CGRateS, the one RatingPlan id to import
    currency: str = ""  # default: the company currency
    time_zone: str = "UTC"
    country: str = ""
    billing: str = "1/1"
    connect_fee: str = "0"


def read_tariff(
    settings: Settings, path: Path, fmt: str | None = None, terms: Terms = Terms()
) -> tuple[list[Plan], str]:
    """The plans at `path` in the given or detected format, and a note on what was read (TariffError when wrong)."""
    fmt = fmt or detect_format(path)
    currency = terms.currency or settings.company.currency
    if fmt == "own":
        plan = read_plan(path)
        if terms.name:
            plan = replace(plan, name=check_plan_name(terms.name, path))
        return [plan], "own format"
    if fmt == "deck":
        first, inc = parse_billing(terms.billing)
        try:
            fee = Decimal(terms.connect_fee or "0")
        except ArithmeticError:
            raise ValueError(f"connect fee {terms.connect_fee!r} is not an amount") from None
        name = terms.name or path.stem.lower().replace(" ", "-")
        plan, layout = read_deck(
            path,
            DeckOptions(
                name=name,
                currency=currency,
                time_zone=terms.time_zone,
                country=terms.country,
                first_block=first,
                increment=inc,
                connect_fee=fee,
            ),
        )
        sep = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}[layout.delimiter]
        header = "a header" if layout.header else "no header"
        decimal = "comma" if layout.decimal_comma else "point"
        note = f"A-Z deck: {sep}-separated, {header}, decimal {decimal}"
        if layout.ignored:
            note += f"; columns not used: {', '.join(layout.ignored)}"
        return [plan], note
    if fmt != "cgrates":
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    plans = read_cgrates(path, currency=currency, time_zone=terms.time_zone, only=terms.name or None)
    return plans, f"CGRateS tariff plan ({len(plans)} rating plan(s))"


# --- uploads (the administrator's Tariffs page) -------------------------------------------------------

# Lines reported per upload: enough to fix a file in one go, few enough to read.
MAX_PROBLEMS = 25
# An uploaded zip may unpack to at most this much (a tariff plan is text; more is a mistake or an attack).
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
UPLOAD_FORMATS = ("auto", *FORMATS)


@dataclass(frozen=True)
class Problem:
    """What is wrong in an uploaded tariff: the file (as uploaded), the line and field when known, and why."""

    file: str
    line: int | None
    field: str | None
    problem: str


@dataclass
class UploadCheck:
    """An uploaded tariff read without installing it: its plans, or every problem found (line by line)."""

    plans: list[Plan]
    note: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the upload reads without a problem."""
        return not self.problems and bool(self.plans)


def _unpack(data: bytes, folder: Path) -> None:
    """Unpack a zip into `folder`, refusing paths that leave it and archives that unpack too large."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TariffError("upload", "not a zip archive") from None
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in entries) > MAX_UNPACKED_BYTES:
            raise TariffError("upload", f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
        root = folder.resolve()
        for info in entries:
            target = (folder / info.filename).resolve()
            if not target.is_relative_to(root) or info.filename.startswith(("/", "\\")):
                raise TariffError(info.filename, "a path outside the archive's folder")
            name = Path(info.filename).name
            if name.startswith(".") or "__MACOSX" in Path(info.filename).parts:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)


def _plan_root(folder: Path) -> Path:
    """The folder of an unpacked archive that holds the plan (the archive may wrap it in one folder)."""
    current = folder
    while True:
        if is_own_plan(current) or is_cgrates_folder(current):
            return current
        children = [p for p in current.iterdir() if not p.name.startswith(".")]
        if len(children) == 1 and children[0].is_dir():
            current = children[0]
            continue
        return current


def _blank_line(path: Path, line: int) -> bool:
    """Empty one line of a file (the readers skip blank lines and keep counting); False when it cannot."""
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return False
    if not 1 <= line <= len(lines) or not lines[line - 1].strip():
        return False
    lines[line - 1] = b"\r" if lines[line - 1].endswith(b"\r") else b""
    path.write_bytes(b"\n".join(lines))
    return True


def check_upload(
    settings: Settings, filename: str, data: bytes, fmt: str = "auto", terms: Terms = Terms()
) -> UploadCheck:
    """Read an uploaded deck (CSV) or zipped plan (own format, CGRateS) and report every line that is wrong.

    A reader stops at the first wrong line; to report more, that line is blanked in a scratch copy and
    the upload read again, up to MAX_PROBLEMS lines. Nothing is installed.
    """
    if fmt not in UPLOAD_FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(UPLOAD_FORMATS)})")
    safe = Path(filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="ringledger-tariff-") as tmp:
        scratch = Path(tmp)
        if safe.lower().endswith(".zip"):
            target = scratch / "plan"
            target.mkdir()
            try:
                _unpack(data, target)
            except TariffError as exc:
                return UploadCheck([], "", [Problem(safe, None, None, exc.problem)])
            target = _plan_root(target)
        else:
            target = scratch / safe
            target.write_bytes(data)
        problems: list[Problem] = []
        while True:
            try:
                plans, note = read_tariff(settings, target, None if fmt == "auto" else fmt, terms)
            except TariffError as exc:
                problems.append(_problem(exc, scratch, safe))
                if exc.line is None or len(problems) >= MAX_PROBLEMS or not _blank_line(Path(exc.file), exc.line):
                    return UploadCheck([], "", problems)
                continue
            except ValueError as exc:
                problems.append(Problem(safe, None, None, str(exc)))
                return UploadCheck([], "", problems)
            return UploadCheck([] if problems else plans, note, problems)


def _problem(exc: TariffError, scratch: Path, upload: str) -> Problem:
    """The problem with the file named as the administrator knows it (inside the upload, not the scratch copy)."""
    file = Path(exc.file)
    try:
        inner = file.resolve().relative_to(scratch.resolve())
    except ValueError:
        name = upload
    else:
        parts = inner.parts[1:] if inner.parts and inner.parts[0] == "plan" else inner.parts
        name = "/".join(parts) if parts else upload
    return Problem(name, exc.line, exc.field, exc.problem)


@dataclass(frozen=True)
class Installed:
    """What installing a checked upload did: the plans installed and the days marked for re-rating."""

    plans: list[str]
    marked_days: list[date]


def install_checked(
    settings: Settings,
    engine,
    actor: str,
    check: UploadCheck,
    *,
    replace_existing: bool = False,
    valid_from: datetime | None = None,
) -> Installed:
    """Install the plans of a checked upload (as new plans, replacements, or new versions from `valid_from`).

    Audited; days priced with versions that now differ are marked for re-rating.
    """
    from warehouse.audit import TARIFF_INSTALLED, audit
    from warehouse.rating import affected_days, load_tariffs, mark_days

    if not check.ok:
        raise TariffError("upload", "a tariff with problems is never installed: fix them and upload it again")
    names = []
    for plan in check.plans:
        install(settings, plan, replace_existing=replace_existing, valid_from=valid_from)
        names.append(plan.name)
        audit(
            engine,
            actor,
            TARIFF_INSTALLED,
            plan.name,
            {
                "versions": [v.id for v in plan.versions],
                "replace": replace_existing,
                "valid_from": valid_from.isoformat() if valid_from else None,
            },
        )
    days = affected_days(settings, load_tariffs(settings))
    mark_days(settings, days)
    return Installed(names, days)


# --- plans and versions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    """One version of a plan: its id, validity (UTC; None = open), rate rows and bands."""

    id: str
    valid_from: datetime | None
    valid_to: datetime | None
    rates: int
    bands: tuple[str, ...]


@dataclass(frozen=True)
class PlanInfo:
    """An installed or configured plan and its versions, or the error that keeps it from being read."""

    name: str
    currency: str
    time_zone: str
    carrier: str
    versions: tuple[VersionInfo, ...]
    installed: bool  # in the tariffs folder (versions can be added and closed here)
    error: str = ""


def plans_overview(settings: Settings) -> list[PlanInfo]:
    """Every plan in force with its versions, and the plans that cannot be read with why."""
    from warehouse.rating import load_tariffs

    book = load_tariffs(settings)
    here = set(installed(settings))
    out = [
        PlanInfo(
            name=plan.name,
            currency=plan.currency,
            time_zone=plan.time_zone,
            carrier=plan.carrier,
            versions=tuple(
                VersionInfo(
                    v.id, v.valid_from, v.valid_to, v.rates.num_rows, tuple(sorted({w.band for w in v.windows}))
                )
                for v in plan.versions
            ),
            installed=name in here,
        )
        for name, plan in sorted(book.plans.items())
    ]
    out += [PlanInfo(name, "", "", "", (), name in here, error) for name, error in sorted(book.errors.items())]
    return out


def close_version(settings: Settings, engine, actor: str, plan_name: str, version_id: str, at: datetime) -> list[date]:
    """End a version of an installed plan at `at` (calls answered from then on find no price in it).

    Audited; the days whose prices this changes are marked for re-rating and returned.
    """
    from warehouse.audit import TARIFF_VERSION_CLOSED, audit
    from warehouse.rating import affected_days, load_tariffs, mark_days

    if at.tzinfo is None:
        raise ValueError("give the time a version ends with its time zone")
    folder = settings.tariffs_dir / plan_name
    if plan_name not in installed(settings):
        raise TariffError(folder, f"plan {plan_name!r} is not in the tariffs folder")
    plan = read_plan(folder)
    version = next((v for v in plan.versions if v.id == version_id), None)
    if version is None:
        raise TariffError(folder / "plan.toml", f"no version {version_id!r}", None, "versions")
    if version.valid_from is not None and at <= version.valid_from:
        raise TariffError(
            folder / "plan.toml", f"version {version_id!r} starts after {at.isoformat()}", None, "valid_to"
        )
    if version.valid_to is not None and at >= version.valid_to:
        raise TariffError(folder / "plan.toml", f"version {version_id!r} already ends before that", None, "valid_to")
    versions = [replace(v, valid_to=at) if v.id == version_id else v for v in plan.versions]
    install(settings, replace(plan, versions=order_versions(versions, folder / "plan.toml")), replace_existing=True)
    audit(engine, actor, TARIFF_VERSION_CLOSED, plan_name, {"version": version_id, "valid_to": at.isoformat()})
    days = affected_days(settings, load_tariffs(settings))
    mark_days(settings, days)
    return days
