"""Per-person settings kept between sessions: language, time zone, Home rows, dashboard layout.

The language a person sees is their own choice, else their directory entry's, else their site's,
else the portal's default, else the company's (A4). Every UI (portal, phone service, gadgets) asks
`person_language()` / `person_zone()` so a person reads the same language everywhere.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, metadata, users, utcnow
from warehouse.i18n import LANGUAGES, normalise_language

user_preference = sa.Table(
    "user_preference",
    metadata,
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("language", sa.String(8), nullable=False, server_default=""),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
    sa.Column("home_rows", sa.Integer, nullable=False, server_default="20"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

dashboard_widget = sa.Table(
    "dashboard_widget",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("widget", sa.String(64), nullable=False),
    sa.Column("zone", sa.String(16), nullable=False),  # top | left | right
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("minimised", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_dashboard_widget_user", "user_id"),
)

ZONES = ("top", "left", "right")
HOME_ROWS = (10, 20, 50, 100, 200)


@dataclass(frozen=True)
class Preferences:
    """What a person chose (empty strings: not chosen)."""

    language: str = ""
    time_zone: str = ""
    home_rows: int = 20


@dataclass(frozen=True)
class Widget:
    """One widget on a person's dashboard."""

    id: int
    widget: str
    zone: str
    position: int
    minimised: bool


def get_preferences(engine: Engine, user_id: str) -> Preferences:
    """A person's stored choices."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(user_preference).where(user_preference.c.user_id == user_id)).first()
    if row is None:
        return Preferences()
    return Preferences(row.language, row.time_zone, row.home_rows)


def set_preferences(engine: Engine, user_id: str, **changes) -> Preferences:
    """Store some of a person's choices (language, time_zone, home_rows); checks each value."""
    if "language" in changes and changes["language"] and changes["language"] not in LANGUAGES:
        raise ValueError(f"unknown language {changes['language']!r} (one of {', '.join(LANGUAGES)})")
    if changes.get("time_zone"):
        try:
            zoneinfo.ZoneInfo(changes["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {changes['time_zone']!r}") from None
    if "home_rows" in changes and changes["home_rows"] not in HOME_ROWS:
        raise ValueError(f"home_rows must be one of {HOME_ROWS}")
    unknown = set(changes) - {"language", "time_zone", "home_rows"}
    if unknown:
        raise ValueError(f"unknown preference(s): {', '.join(sorted(unknown))}")
    current = get_preferences(engine, user_id)
    merged = Preferences(
        language=changes.get("language", current.language),
        time_zone=changes.get("time_zone", current.time_zone),
        home_rows=changes.get("home_rows", current.home_rows),
    )
    with engine.begin() as conn:
        exists = conn.execute(sa.select(user_preference.c.user_id).where(user_preference.c.user_id == user_id)).first()
        values = {
            "language": merged.language,
            "time_zone": merged.time_zone,
            "home_rows": merged.home_rows,
            "updated_at": utcnow(),
        }
        if exists:
            conn.execute(user_preference.update().where(user_preference.c.user_id == user_id).values(**values))
        else:
            conn.execute(user_preference.insert().values(user_id=user_id, **values))
    return merged


def _directory_entry(engine: Engine, user_id: str):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(users.c.language, users.c.time_zone, users.c.site).where(users.c.id == user_id)
        ).first()


def person_language(settings, engine: Engine, user_id: str) -> str:
    """The language to show a person (their choice, directory, site, portal default, company)."""
    chosen = get_preferences(engine, user_id).language
    if chosen:
        return normalise_language(chosen)
    entry = _directory_entry(engine, user_id)
    candidates = []
    if entry is not None:
        candidates.append(entry.language)
        site = settings.site(entry.site) if entry.site else None
        if site is not None:
            candidates.append(site.language)
    candidates += [settings.portal.default_language, settings.company.language]
    for code in candidates:
        if code and normalise_language(code, "") in LANGUAGES:
            return normalise_language(code)
    return "en"


def person_zone(settings, engine: Engine, user_id: str) -> str:
    """The time zone to show a person's times in (their choice, directory, site, company)."""
    chosen = get_preferences(engine, user_id).time_zone
    return _valid_zone([chosen]) or directory_zone(settings, engine, user_id)


def directory_zone(settings, engine: Engine, user_id: str) -> str:
    """The person's zone when they choose none: their directory entry's, their site's, else the company's."""
    entry = _directory_entry(engine, user_id)
    candidates = []
    if entry is not None:
        candidates.append(entry.time_zone)
        site = settings.site(entry.site) if entry.site else None
        if site is not None:
            candidates.append(site.time_zone)
    candidates.append(settings.company.time_zone)
    return _valid_zone(candidates) or "UTC"


def _valid_zone(candidates: list[str]) -> str:
    for zone in candidates:
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return zone
    return ""


# --- dashboard layout -----------------------------------------------------------------------------


def dashboard(engine: Engine, user_id: str) -> list[Widget]:
    """A person's widgets, by zone and position."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(dashboard_widget)
            .where(dashboard_widget.c.user_id == user_id)
            .order_by(dashboard_widget.c.zone, dashboard_widget.c.position, dashboard_widget.c.id)
        ).all()
    return [Widget(r.id, r.widget, r.zone, r.position, r.minimised) for r in rows]


def add_widget(engine: Engine, user_id: str, widget: str, zone: str) -> Widget:
    """Put a widget at the end of a zone."""
    if zone not in ZONES:
        raise ValueError(f"unknown dashboard zone {zone!r} (one of {', '.join(ZONES)})")
    with engine.begin() as conn:
        last = conn.execute(
            sa.select(sa.func.max(dashboard_widget.c.position)).where(
                dashboard_widget.c.user_id == user_id, dashboard_widget.c.zone == zone
            )
        ).scalar()
        position = (last or 0) + 1
        key = conn.execute(
            dashboard_widget.insert().values(user_id=user_id, widget=widget, zone=zone, position=position)
        ).inserted_primary_key
        assert key is not None
        new_id = key[0]
    return Widget(int(new_id), widget, zone, position, False)


def remove_widget(engine: Engine, user_id: str, widget_id: int) -> None:
    """Close a widget."""
    with engine.begin() as conn:
        conn.execute(
            dashboard_widget.delete().where(dashboard_widget.c.id == widget_id, dashboard_widget.c.user_id == user_id)
        )


def set_minimised(engine: Engine, user_id: str, widget_id: int, minimised: bool) -> None:
    """Minimise a widget to one line, or open it again."""
    with engine.begin() as conn:
        conn.execute(
            dashboard_widget.update()
            .where(dashboard_widget.c.id == widget_id, dashboard_widget.c.user_id == user_id)
            .values(minimised=minimised)
        )


def move_widget(engine: Engine, user_id: str, widget_id: int, zone: str) -> None:
    """Move a widget to the end of another zone."""
    if zone not in ZONES:
        raise ValueError(f"unknown dashboard zone {zone!r} (one of {', '.join(ZONES)})")
    with engine.begin() as conn:
        last = conn.execute(
            sa.select(sa.func.max(dashboard_widget.c.position)).where(
                dashboard_widget.c.user_id == user_id, dashboard_widget.c.zone == zone
            )
        ).scalar()
        conn.execute(
            dashboard_widget.update()
            .where(dashboard_widget.c.id == widget_id, dashboard_widget.c.user_id == user_id)
            .values(zone=zone, position=(last or 0) + 1)
        )
