"""Foundation: ingest ledger, dirty days, directory, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from warehouse.appdb import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejects", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "ingest_file",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False, unique=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8)),
        sa.Column("cluster", sa.String(64)),
        sa.Column("node", sa.String(16)),
        sa.Column("file_time", UtcDateTime),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("archive_path", sa.String(1024), nullable=False),
        sa.Column("batch_id", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejects", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("days", sa.Text, nullable=False, server_default=""),
        sa.Column("error", sa.Text),
        sa.Column("loaded_at", UtcDateTime),
    )
    op.create_index("ix_ingest_file_status", "ingest_file", ["status"])
    op.create_index("ix_ingest_file_received", "ingest_file", ["received_at"])
    op.create_table(
        "dirty_day",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("marked_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(128), primary_key=True),
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
        sa.Column("source", sa.String(16), nullable=False, server_default="local"),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "extension_assignment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("extension", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("valid_from", UtcDateTime),
        sa.Column("valid_to", UtcDateTime),
        sa.Column("source", sa.String(16), nullable=False, server_default="local"),
    )
    op.create_index("ix_extension_assignment_ext", "extension_assignment", ["extension"])
    op.create_index("ix_extension_assignment_user", "extension_assignment", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in ("audit_log", "extension_assignment", "users", "dirty_day", "ingest_file", "ingest_batch"):
        op.drop_table(table)
