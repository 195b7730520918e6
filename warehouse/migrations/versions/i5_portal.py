"""Portal: personal reports, report history, per-person preferences and dashboard layouts.

Revision ID: i5_portal
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from warehouse.appdb import UtcDateTime

revision = "i5_portal"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_report",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("group_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("report", sa.String(100), nullable=False),
        sa.Column("filters", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_saved_report_owner_name"),
    )
    op.create_table(
        "report_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report", sa.String(100), nullable=False),
        sa.Column("saved_report_id", sa.Integer, sa.ForeignKey("saved_report.id", ondelete="SET NULL")),
        sa.Column("filters", sa.Text, nullable=False, server_default="{}"),
        sa.Column("channel", sa.String(16), nullable=False, server_default="portal"),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("elapsed_ms", sa.Float, nullable=False, server_default="0"),
        sa.Column("ran_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_report_history_user_ran", "report_history", ["user_id", "ran_at"])
    op.create_table(
        "user_preference",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False, server_default=""),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("home_rows", sa.Integer, nullable=False, server_default="20"),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "dashboard_widget",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("widget", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("minimised", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_dashboard_widget_user", "dashboard_widget", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_widget_user", "dashboard_widget")
    op.drop_table("dashboard_widget")
    op.drop_table("user_preference")
    op.drop_index("ix_report_history_user_ran", "report_history")
    op.drop_table("report_history")
    op.drop_table("saved_report")
