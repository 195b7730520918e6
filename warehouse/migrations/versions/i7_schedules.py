"""Scheduled reports and alarms, and the record of their runs.

Revision ID: i7_schedules
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from warehouse.appdb import UtcDateTime

revision = "i7_schedules"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("options", sa.Text, nullable=False, server_default="{}"),
        sa.Column("saved_report_id", sa.Integer),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False, server_default=""),
        sa.Column("every", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("start_local", sa.DateTime, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("skip_empty", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("next_run_at", UtcDateTime),
        sa.Column("claimed_until", UtcDateTime),
        sa.Column("last_run_at", UtcDateTime),
        sa.Column("last_status", sa.String(16), nullable=False, server_default=""),
        sa.Column("last_count", sa.Integer),
        sa.Column("last_recipients", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("last_message", sa.Text, nullable=False, server_default=""),
        sa.Column("last_mail_id", sa.String(64)),
        sa.Column("state", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_schedule_due", "schedule", ["active", "next_run_at"])
    op.create_index("ix_schedule_owner", "schedule", ["owner"])
    op.create_table(
        "schedule_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedule.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ran_at", UtcDateTime, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer),
        sa.Column("recipients", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("mail_id", sa.String(64)),
        sa.Column("window_start", UtcDateTime),
        sa.Column("window_end", UtcDateTime),
    )
    op.create_index("ix_schedule_run_schedule", "schedule_run", ["schedule_id", "ran_at"])


def downgrade() -> None:
    op.drop_index("ix_schedule_run_schedule", table_name="schedule_run")
    op.drop_table("schedule_run")
    op.drop_index("ix_schedule_owner", table_name="schedule")
    op.drop_index("ix_schedule_due", table_name="schedule")
    op.drop_table("schedule")
