"""The app database: state people change (directory, ledger, settings, ...), through SQLAlchemy Core.

SQLite in WAL mode under the data home by default; a PostgreSQL URL in the configuration replaces it.
The schema is owned by the Alembic migrations in `warehouse/migrations`; `upgrade()` brings any
database to the newest revision and is run by every process before it touches the database.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

metadata = sa.MetaData()


def utcnow() -> datetime:
    """The current time, UTC, as stored in the app database."""
    return datetime.now(UTC)


class UtcDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime, on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


ingest_batch = sa.Table(
    "ingest_batch",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # processing | published | aborted
    sa.Column("files", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rejects", sa.BigInteger, nullable=False, server_default="0"),
)

ingest_file = sa.Table(
    "ingest_file",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(8)),  # cdr | cmr, once parsed
    sa.Column("cluster", sa.String(64)),
    sa.Column("node", sa.String(16)),
    sa.Column("file_time", UtcDateTime),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("archive_path", sa.String(1024), nullable=False),
    sa.Column("batch_id", sa.String(40)),
    # pending | processing | loaded | failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("rejects", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("days", sa.Text, nullable=False, server_default=""),  # comma-separated UTC days touched
    sa.Column("error", sa.Text),
    sa.Column("loaded_at", UtcDateTime),
    sa.Index("ix_ingest_file_status", "status"),
    sa.Index("ix_ingest_file_received", "received_at"),
)

dirty_day = sa.Table(
    "dirty_day",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("marked_at", UtcDateTime, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),  # the login name
    sa.Column("display_name", sa.String(255), nullable=False, server_default=""),
    sa.Column("first_name", sa.String(128), nullable=False, server_default=""),
    sa.Column("last_name", sa.String(128), nullable=False, server_default=""),
    sa.Column("email", sa.String(255), nullable=False, server_default=""),
    sa.Column("department", sa.String(128), nullable=False, server_default=""),
    sa.Column("cost_centre", sa.String(128), nullable=False, server_default=""),
    sa.Column("manager_id", sa.String(128)),
    sa.Column("site", sa.String(128), nullable=False, server_default=""),
    sa.Column("language", sa.String(8), nullable=False, server_default=""),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False, server_default="user"),
    sa.Column("source", sa.String(16), nullable=False, server_default="local"),  # local | csv | ldap
    sa.Column("password_hash", sa.String(255)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Who an extension belonged to, and when: an extension that changes hands mid-month charges each
# call to the person who had it at the time of the call.
extension_assignment = sa.Table(
    "extension_assignment",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("extension", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("valid_from", UtcDateTime),  # NULL: since always
    sa.Column("valid_to", UtcDateTime),  # NULL: still assigned; exclusive bound
    sa.Column("source", sa.String(16), nullable=False, server_default="local"),
    sa.Index("ix_extension_assignment_ext", "extension"),
    sa.Index("ix_extension_assignment_user", "user_id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_audit_log_at", "at"),
    # the audit page filters by who and what
    sa.Index("ix_audit_log_actor", "actor"),
    sa.Index("ix_audit_log_action", "action"),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine(url: str) -> Engine:
    """The process-wide engine for a database URL (SQLite gets WAL mode and foreign keys)."""
    with _engines_lock:
        eng = _engines.get(url)
        if eng is None:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            eng = sa.create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
            if eng.dialect.name == "sqlite":
                event.listen(eng, "connect", _sqlite_pragmas)
            _engines[url] = eng
        return eng


def dispose_all() -> None:
    """Close every pooled connection (tests and forked processes)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this database, with the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_upgraded: set[str] = set()
# Alembic keeps the running migration's context in module globals: one upgrade at a time per process
# (the portal's sessions are threads, and the first log-ins of a fresh portal arrive together).
_upgrade_lock = threading.Lock()


def upgrade(url: str) -> Engine:
    """Bring the database to the newest schema (once per process) and return its engine."""
    eng = engine(url)
    if url in _upgraded:
        return eng
    with _upgrade_lock:
        if url not in _upgraded:
            with eng.begin() as conn:
                cfg = alembic_config(url)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
            _upgraded.add(url)
    return eng


def open_db(settings) -> Engine:
    """The migrated app database of these settings."""
    return upgrade(settings.database_url)
