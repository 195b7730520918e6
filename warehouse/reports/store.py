"""Personal reports (R4) and report history (H6) in the app database.

A personal report is a catalogue report with saved options, a name, a description and a group;
it belongs to one person. Every run made through the portal (or a schedule) is recorded in the
history, which also gives Home its "most used" shortcuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import UtcDateTime, metadata, utcnow
from warehouse.reports.filters import Filters

saved_report = sa.Table(
    "saved_report",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("group_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("report", sa.String(100), nullable=False),  # catalogue name
    sa.Column("filters", sa.Text, nullable=False, server_default="{}"),  # Filters as JSON
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("owner", "name", name="uq_saved_report_owner_name"),
)

report_history = sa.Table(
    "report_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("report", sa.String(100), nullable=False),
    sa.Column("saved_report_id", sa.Integer, sa.ForeignKey("saved_report.id", ondelete="SET NULL")),
    sa.Column("filters", sa.Text, nullable=False, server_default="{}"),
    sa.Column("channel", sa.String(16), nullable=False, server_default="portal"),  # portal | cli | mail
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("elapsed_ms", sa.Float, nullable=False, server_default="0"),
    sa.Column("ran_at", UtcDateTime, nullable=False),
    sa.Index("ix_report_history_user_ran", "user_id", "ran_at"),
)

HISTORY_KEPT = 200  # runs kept per person


@dataclass(frozen=True)
class SavedReport:
    """A person's saved report."""

    id: int
    owner: str
    name: str
    description: str
    group_name: str
    report: str
    filters: Filters
    updated_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One past run."""

    id: int
    report: str
    saved_report_id: int | None
    saved_name: str | None
    filters: Filters
    rows: int
    ran_at: datetime


def _saved(row) -> SavedReport:
    return SavedReport(
        id=row.id,
        owner=row.owner,
        name=row.name,
        description=row.description,
        group_name=row.group_name,
        report=row.report,
        filters=Filters.from_json(row.filters, where=f"saved report {row.name!r}"),
        updated_at=row.updated_at,
    )


def save_report(
    engine: Engine, owner: str, name: str, report: str, filters: Filters, description: str = "", group_name: str = ""
) -> SavedReport:
    """Save options as a personal report; a report of the same name of the same person is replaced."""
    from warehouse.reports.catalogue import get

    name = name.strip()
    if not name:
        raise ValueError("a personal report needs a name")
    get(report)  # a report that is not in the catalogue cannot be saved
    now = utcnow()
    values = {
        "description": description.strip(),
        "group_name": group_name.strip(),
        "report": report,
        "filters": filters.to_json(),
        "updated_at": now,
    }
    with engine.begin() as conn:
        existing = conn.execute(
            sa.select(saved_report.c.id).where(saved_report.c.owner == owner, saved_report.c.name == name)
        ).scalar()
        if existing is None:
            conn.execute(saved_report.insert().values(owner=owner, name=name, created_at=now, **values))
        else:
            conn.execute(saved_report.update().where(saved_report.c.id == existing).values(**values))
        row = conn.execute(
            sa.select(saved_report).where(saved_report.c.owner == owner, saved_report.c.name == name)
        ).one()
    return _saved(row)


def personal_reports(engine: Engine, owner: str) -> list[SavedReport]:
    """A person's saved reports, by group then name."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(saved_report)
            .where(saved_report.c.owner == owner)
            .order_by(saved_report.c.group_name, saved_report.c.name)
        ).all()
    return [_saved(r) for r in rows]


def get_saved(engine: Engine, owner: str, report_id: int) -> SavedReport | None:
    """One of a person's saved reports (None when it is not theirs)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(saved_report).where(saved_report.c.id == report_id, saved_report.c.owner == owner)
        ).first()
    return _saved(row) if row else None


def delete_saved(engine: Engine, owner: str, report_id: int) -> bool:
    """Delete one of a person's saved reports; True when it existed."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                saved_report.delete().where(saved_report.c.id == report_id, saved_report.c.owner == owner)
            ).rowcount
        )


def record_run(
    engine: Engine,
    user_id: str,
    report: str,
    filters: Filters,
    rows: int,
    elapsed_ms: float = 0.0,
    saved_report_id: int | None = None,
    channel: str = "portal",
) -> None:
    """Add a run to the person's history (keeping the latest HISTORY_KEPT)."""
    with engine.begin() as conn:
        conn.execute(
            report_history.insert().values(
                user_id=user_id,
                report=report,
                saved_report_id=saved_report_id,
                filters=filters.to_json(),
                channel=channel,
                rows=rows,
                elapsed_ms=elapsed_ms,
                ran_at=utcnow(),
            )
        )
        cutoff = conn.execute(
            sa.select(report_history.c.id)
            .where(report_history.c.user_id == user_id)
            .order_by(report_history.c.id.desc())
            .offset(HISTORY_KEPT)
            .limit(1)
        ).scalar()
        if cutoff is not None:
            conn.execute(
                report_history.delete().where(report_history.c.user_id == user_id, report_history.c.id <= cutoff)
            )


def history(engine: Engine, user_id: str, limit: int = 20) -> list[HistoryEntry]:
    """A person's latest runs, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(report_history, saved_report.c.name.label("saved_name"))
            .select_from(report_history.outerjoin(saved_report, saved_report.c.id == report_history.c.saved_report_id))
            .where(report_history.c.user_id == user_id)
            .order_by(report_history.c.id.desc())
            .limit(limit)
        ).all()
    return [
        HistoryEntry(
            id=r.id,
            report=r.report,
            saved_report_id=r.saved_report_id,
            saved_name=r.saved_name,
            filters=Filters.from_json(r.filters, where="report history"),
            rows=r.rows,
            ran_at=r.ran_at,
        )
        for r in rows
    ]


def most_used(engine: Engine, user_id: str, limit: int = 5) -> tuple[list[str], list[int]]:
    """The person's most run catalogue reports and saved reports (ids), most used first."""
    with engine.connect() as conn:
        public = [
            r[0]
            for r in conn.execute(
                sa.select(report_history.c.report, sa.func.count().label("n"))
                .where(report_history.c.user_id == user_id, report_history.c.saved_report_id.is_(None))
                .group_by(report_history.c.report)
                .order_by(sa.desc("n"), report_history.c.report)
                .limit(limit)
            )
        ]
        personal = [
            r[0]
            for r in conn.execute(
                sa.select(report_history.c.saved_report_id, sa.func.count().label("n"))
                .where(report_history.c.user_id == user_id, report_history.c.saved_report_id.is_not(None))
                .group_by(report_history.c.saved_report_id)
                .order_by(sa.desc("n"))
                .limit(limit)
            )
        ]
    return public, personal
