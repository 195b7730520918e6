"""Settings the administrator changes at run time, stored in the app database over the configuration file.

The file supplies the defaults; the app database holds only what an administrator changed, as
overrides (`settings_override`), and a revision counter (`settings_revision`) that every change
bumps. `warehouse.config.load_settings()` lays the stored overrides over the file and validates the
result with the same pydantic models, so every process (pipelines, portal, phone service, CLI) sees a
change on its next `load_settings()`, with no restart. Precedence, strongest first:

    environment (ports, database URL, secrets) > app database > file > built-in defaults

Only the settings in `SCALARS` and the items of `KEYED_LISTS` may be stored (see README, "Settings
changed at run time"); everything else (ports, database, directory server, secrets) stays in the file
or the environment because a process must know it before it can read the database, or because it
needs a restart.

An override is kept under a path: `privacy.mask_digits.user` for one value, `sites[Milano]` for a
site (its value holds only the fields that differ from the file's site, or every field of a site the
file does not have; `null` removes a site of the file), `devices[MIL-GW-01]` likewise. A change is
validated before it is stored (`change()` raises `SettingsRefused` naming each field and what is
wrong) and audited. A stored override that a later edit of the file makes invalid is left out, and
`Settings.runtime.refused` says which and why, so one bad file edit cannot stop every process.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, metadata, utcnow
from warehouse.config import (
    ConfigError,
    Settings,
    build_settings,
    overlay,
    problem_text,
    problems_of,
    read_config_file,
)

settings_override = sa.Table(
    "settings_override",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.String(512), nullable=False, unique=True),  # privacy.mask_digits.user, sites[Milano]
    sa.Column("value", sa.Text, nullable=False),  # JSON
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# One row (id 1): bumped by every change, so readers know when to read the overrides again.
settings_revision = sa.Table(
    "settings_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Single values an administrator may change at run time.
SCALARS: tuple[str, ...] = (
    "privacy.mask_digits.user",
    "privacy.mask_digits.supervisor",
    "privacy.mask_digits.administrator",
    "sessions.minutes.portal",
    "sessions.minutes.gadget",
    "sessions.minutes.phone",
    "sessions.minutes.api",
    "portal.report_logo",
    "portal.default_language",
    "portal.refresh_seconds",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.sender",
    "smtp.verify_tls",
    "cucm.enforcement",
    "data_health.silent_minutes",
    "data_health.working_days",
    "data_health.working_hours",
)
# Lists whose items an administrator may edit, add and remove, and the field that names an item.
KEYED_LISTS: dict[str, str] = {"sites": "name", "devices": "device"}
# Fields of those items that may be stored (the item's name is its identity and is never changed).
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "sites": (
        "country",
        "time_zone",
        "language",
        "access_codes",
        "cdr_has_access_code",
        "internal_ranges",
        "emergency_numbers",
        "area",
    ),
    "devices": ("kind", "label", "site", "tariff_plan", "channels"),
}


class _Reset:
    """Marks a value to forget: the setting goes back to what the file says."""

    def __repr__(self) -> str:
        return "RESET"


RESET: Any = _Reset()


class SettingsRefused(ConfigError):
    """A change was not stored because a value is wrong; `problems` maps each setting to what is wrong."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(problem_text(problems))


@dataclass(frozen=True)
class Override:
    """A stored setting: its path, its value, who stored it and when."""

    path: str
    value: Any
    updated_at: datetime
    updated_by: str


# --- paths -------------------------------------------------------------------------------------------


def item_path(kind: str, name: str) -> str:
    """The path of a list item: `sites[Milano]`, `devices[MIL-GW-*]`."""
    return f"{kind}[{name}]"


def parse_path(path: str) -> tuple[str, str | None, tuple[str, ...]]:
    """('sites', 'Milano', ()) for an item path, ('', None, ('privacy', 'mask_digits', 'user')) for a value.

    Raises SettingsRefused for a path that may not be stored.
    """
    head, bracket, rest = path.partition("[")
    if bracket:
        if head not in KEYED_LISTS or not rest.endswith("]") or not rest[:-1]:
            raise SettingsRefused([(path, "not a setting that can be changed at run time")])
        return head, rest[:-1], ()
    if path not in SCALARS:
        raise SettingsRefused([(path, "not a setting that can be changed at run time")])
    return "", None, tuple(path.split("."))


def _get(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else getattr(data, key, None)
    return data


def file_value(settings: Settings, path: str) -> Any:
    """What the file (or the built-in default) says for a single-value setting."""
    _, _, keys = parse_path(path)
    base = settings_from_file(settings)
    return _plain(_get(base, keys))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


# --- applying stored overrides -----------------------------------------------------------------------


def apply(data: dict, overrides: list[tuple[str, Any]], defaults: dict | None = None) -> dict:
    """The file's data with the overrides laid over it (a new dict; `data` is left as it was).

    `defaults` (the file's settings dumped as data) fills a section the file leaves out, so one
    stored value of a table such as `privacy.mask_digits` keeps the others at their defaults.
    """
    out = copy.deepcopy(data)
    for path, value in overrides:
        kind, name, keys = parse_path(path)
        if kind:
            _apply_item(out, kind, name or "", value)
            continue
        node: dict = out
        fallback: Any = defaults or {}
        for key in keys[:-1]:
            fallback = fallback.get(key) if isinstance(fallback, dict) else None
            child = node.get(key)
            if not isinstance(child, dict):
                child = copy.deepcopy(fallback) if isinstance(fallback, dict) else {}
                node[key] = child
            node = child
        node[keys[-1]] = copy.deepcopy(value)
    return out


def _apply_item(data: dict, kind: str, name: str, value: Any) -> None:
    ident = KEYED_LISTS[kind]
    items = data.get(kind)
    if not isinstance(items, list):
        items = []
        data[kind] = items
    index = next((i for i, it in enumerate(items) if isinstance(it, dict) and it.get(ident) == name), None)
    if value is None:
        if index is not None:
            del items[index]
        return
    fields = {k: copy.deepcopy(v) for k, v in dict(value).items() if k != ident}
    if index is None:
        items.append({ident: name, **fields})
    else:
        items[index] = {**items[index], **fields}


def _db_url_exists(url: str) -> bool:
    """False for a SQLite file that does not exist yet (a new home: nothing is stored, nothing to create)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    return True


# database URL -> (revision, the base settings, the result)
_cache: dict[str, tuple[int, Settings, Settings]] = {}
_cache_lock = threading.Lock()


def _safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the app database"


def _read_revision(engine: Engine) -> int | None:
    """The settings revision, or None when the database has no settings tables yet."""
    try:
        with engine.connect() as conn:
            value = conn.execute(sa.select(settings_revision.c.revision).where(settings_revision.c.id == 1)).scalar()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("settings_revision"):
                return None
        raise
    return int(value or 0)


def stored(engine: Engine) -> list[Override]:
    """Every stored setting, in the order they were first stored."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(settings_override).order_by(settings_override.c.id)).all()
    return [Override(r.path, json.loads(r.value), r.updated_at, r.updated_by) for r in rows]


def revision(engine: Engine) -> int:
    """The settings revision of this database (0 when nothing was ever stored)."""
    return _read_revision(engine) or 0


def apply_stored(base: Settings, data: dict, env: dict) -> Settings:
    """`base` (from the file and environment) with the settings stored in its app database applied.

    Cached by the database's settings revision: unchanged, this costs one small query.
    """
    from warehouse import appdb

    url = base.database_url
    if not _db_url_exists(url):
        return base
    engine = appdb.engine(url)
    try:
        rev = _read_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(
            f"{_safe_url(url)}: cannot read the settings stored there: {exc.__class__.__name__}"
        ) from None
    if not rev:
        return base
    with _cache_lock:
        hit = _cache.get(url)
    if hit is not None and hit[0] == rev and hit[1] is base:
        return hit[2]
    overrides = [(o.path, o.value) for o in stored(engine)]
    result = _merge(base, data, env, overrides, rev)
    with _cache_lock:
        _cache[url] = (rev, base, result)
    return result


def _merge(base: Settings, data: dict, env: dict, overrides: list[tuple[str, Any]], rev: int) -> Settings:
    """Apply the overrides; any that no longer fit the file are left out and named in `runtime.refused`."""
    path = config_file(base)

    defaults = base.model_dump(mode="json", exclude={"home", "config_path", "runtime"})

    def attempt(chosen: list[tuple[str, Any]]) -> Settings:
        return build_settings(base.home, path, overlay(apply(data, chosen, defaults), env))

    try:
        settings = attempt(overrides)
        refused: list[str] = []
        applied = [p for p, _ in overrides]
    except (ValidationError, SettingsRefused):
        kept: list[tuple[str, Any]] = []
        refused = []
        for override in overrides:
            try:
                attempt([*kept, override])
            except ValidationError as exc:
                text = problem_text(problems_of(exc))
                refused.append(text if text.startswith(override[0]) else f"{override[0]}: {text}")
                continue
            except SettingsRefused as exc:
                refused.append(str(exc))
                continue
            kept.append(override)
        settings = attempt(kept)
        applied = [p for p, _ in kept]
    state = settings.runtime.model_copy(update={"revision": rev, "applied": tuple(applied), "refused": tuple(refused)})
    return settings.model_copy(update={"runtime": state})


def config_file(settings: Settings) -> Path:
    """The configuration file these settings were read from (it may not exist)."""
    from warehouse.config import config_path

    return settings.config_path or config_path(Path(settings.home))


def settings_from_file(settings: Settings) -> Settings:
    """The settings as the file and environment alone make them (no stored overrides)."""
    from warehouse.config import environment_values

    path = config_file(settings)
    _, data = read_config_file(path)
    return build_settings(settings.home, path, overlay(data, environment_values()))


# --- changing ---------------------------------------------------------------------------------------


def _item_dump(item: Any) -> dict:
    return item.model_dump(mode="json") if hasattr(item, "model_dump") else dict(item)


def _normalise(settings: Settings, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Each change as what would be stored (RESET to forget an override); values equal to the file's are
    forgotten, items keep only the fields that differ from the file's item."""
    base = settings_from_file(settings)
    out: dict[str, Any] = {}
    for path, value in changes.items():
        kind, name, keys = parse_path(path)
        if value is RESET:
            out[path] = RESET
            continue
        if not kind:
            out[path] = RESET if _plain(_get(base, keys)) == value else value
            continue
        ident = KEYED_LISTS[kind]
        in_file = next((_item_dump(i) for i in getattr(base, kind) if _item_dump(i).get(ident) == name), None)
        if value is None:
            out[path] = None if in_file is not None else RESET
            continue
        wanted = dict(value)
        unknown = set(wanted) - set(ITEM_FIELDS[kind]) - {ident}
        if unknown:
            raise SettingsRefused([(f"{path}.{k}", "not a setting that can be changed at run time") for k in unknown])
        if wanted.get(ident, name) != name:
            raise SettingsRefused([(f"{path}.{ident}", "an item's name cannot be changed; remove it and add another")])
        wanted.pop(ident, None)
        if in_file is None:
            out[path] = wanted
            continue
        differs = {k: v for k, v in wanted.items() if in_file.get(k) != v}
        out[path] = differs or RESET
    return out


def preview(settings: Settings, changes: Mapping[str, Any], engine: Engine | None = None) -> Settings:
    """The settings as they would be with these changes stored; SettingsRefused names every wrong field."""
    return _proposal(settings, changes, engine)[1]


def _proposal(settings: Settings, changes: Mapping[str, Any], engine: Engine | None) -> tuple[dict[str, Any], Settings]:
    from warehouse import appdb

    engine = engine or appdb.open_db(settings)
    normalised = _normalise(settings, changes)
    current = {o.path: o.value for o in stored(engine)}
    for path, value in normalised.items():
        if value is RESET:
            current.pop(path, None)
        else:
            current[path] = value
    from warehouse.config import environment_values

    file = config_file(settings)
    _, data = read_config_file(file)
    base = settings_from_file(settings)
    defaults = base.model_dump(mode="json", exclude={"home", "config_path", "runtime"})
    merged = overlay(apply(data, list(current.items()), defaults), environment_values())
    try:
        return normalised, build_settings(settings.home, file, merged)
    except ValidationError as exc:
        raise SettingsRefused(problems_of(exc, merged)) from None


def change(settings: Settings, engine: Engine, actor: str, changes: Mapping[str, Any]) -> list[str]:
    """Validate and store changes (path -> value, or RESET); audited; returns the paths that changed.

    Nothing is stored when any value is wrong: SettingsRefused names each wrong field.
    """
    from warehouse.audit import SETTINGS_CHANGED, SETTINGS_RESET, audit

    normalised, _ = _proposal(settings, changes, engine)
    now = utcnow()
    done: list[str] = []
    with engine.begin() as conn:
        rows = {r.path: r for r in conn.execute(sa.select(settings_override)).all()}
        for path, value in normalised.items():
            before = json.loads(rows[path].value) if path in rows else RESET
            if value is RESET:
                if path not in rows:
                    continue
                conn.execute(settings_override.delete().where(settings_override.c.path == path))
                audit(conn, actor, SETTINGS_RESET, path, {"from": before})
            else:
                if before is not RESET and before == value:
                    continue
                text = json.dumps(value, sort_keys=True, ensure_ascii=False)
                if path in rows:
                    conn.execute(
                        settings_override.update()
                        .where(settings_override.c.path == path)
                        .values(value=text, updated_at=now, updated_by=actor[:128])
                    )
                else:
                    conn.execute(
                        settings_override.insert().values(path=path, value=text, updated_at=now, updated_by=actor[:128])
                    )
                audit(conn, actor, SETTINGS_CHANGED, path, {"from": None if before is RESET else before, "to": value})
            done.append(path)
        if done:
            bumped = conn.execute(
                settings_revision.update()
                .where(settings_revision.c.id == 1)
                .values(revision=settings_revision.c.revision + 1, updated_at=now)
            ).rowcount
            if not bumped:
                conn.execute(settings_revision.insert().values(id=1, revision=1, updated_at=now))
    return done


def reset(settings: Settings, engine: Engine, actor: str, paths: list[str]) -> list[str]:
    """Forget stored settings (they go back to what the file says); audited; the paths forgotten."""
    return change(settings, engine, actor, dict.fromkeys(paths, RESET))


# --- the report logo --------------------------------------------------------------------------------------

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_FOLDER = "branding"


def logo_kind(data: bytes) -> str | None:
    """'png', 'jpg' or 'svg' for an image PDF reports can print, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "svg"
    return None


def store_report_logo(settings: Settings, engine: Engine, actor: str, data: bytes) -> str:
    """Keep an uploaded logo under the data home and make it the reports' logo (audited); its path.

    Refuses (SettingsRefused) anything but a PNG, JPEG or SVG image of at most 2 MB.
    """
    import hashlib

    kind = logo_kind(data)
    if kind is None:
        raise SettingsRefused([("portal.report_logo", "the logo must be a PNG, JPEG or SVG image")])
    if len(data) > LOGO_MAX_BYTES:
        raise SettingsRefused([("portal.report_logo", f"the logo must be at most {LOGO_MAX_BYTES // 2**20} MB")])
    folder = Path(settings.home) / LOGO_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"report-logo-{hashlib.sha256(data).hexdigest()[:12]}.{kind}"
    target = folder / name
    if not target.exists():
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(target)
    relative = f"{LOGO_FOLDER}/{name}"
    change(settings, engine, actor, {"portal.report_logo": relative})
    return relative
