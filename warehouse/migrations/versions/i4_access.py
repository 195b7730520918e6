"""Access control: supervisor scopes, switched-off accounts, log-in lock-outs, directory sync status.

Revision ID: i4_access
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from warehouse.appdb import UtcDateTime

revision = "i4_access"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_scope",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False, server_default="admin"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value", "source", name="uq_supervisor_scope"),
    )
    op.create_index("ix_supervisor_scope_user", "supervisor_scope", ["user_id"])
    op.create_table(
        "account_block",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("blocked_at", UtcDateTime, nullable=False),
        sa.Column("blocked_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_failure_at", UtcDateTime),
        sa.Column("last_failure_at", UtcDateTime),
        sa.Column("locked_until", UtcDateTime),
    )
    op.create_table(
        "directory_sync",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("people", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deactivated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reactivated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("extensions_opened", sa.Integer, nullable=False, server_default="0"),
        sa.Column("extensions_closed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_directory_sync_started", "directory_sync", ["started_at"])
    # the audit page filters by person and by action
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", "audit_log")
    op.drop_index("ix_audit_log_actor", "audit_log")
    op.drop_index("ix_directory_sync_started", "directory_sync")
    op.drop_table("directory_sync")
    op.drop_table("login_throttle")
    op.drop_table("account_block")
    op.drop_index("ix_supervisor_scope_user", "supervisor_scope")
    op.drop_table("supervisor_scope")
