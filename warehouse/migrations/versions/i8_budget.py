"""Budget control, phone lock, CUCM enforcement state and the mail send log.

Revision ID: i8_budget
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from warehouse.appdb import UtcDateTime
from warehouse.budgets import Money

revision = "i8_budget"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("carry_over", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("thresholds", sa.String(64), nullable=False, server_default="80,100"),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("lock_on_exhaust", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_budget_subject", "budget", ["scope", "subject"])
    op.create_table(
        "budget_period",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("base_amount", Money, nullable=False),
        sa.Column("carried_in", Money, nullable=False),
        sa.Column("spent", Money, nullable=False),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("other_currency_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("evaluated_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("carried_out", Money),
        sa.UniqueConstraint("budget_id", "starts_at", name="uq_budget_period_start"),
    )
    op.create_table(
        "budget_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period_start", UtcDateTime),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128)),
        sa.Column("extension", sa.String(64)),
        sa.Column("amount", Money),
        sa.Column("threshold", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(128), nullable=False, server_default="ringledger"),
    )
    op.create_index("ix_budget_event_budget", "budget_event", ["budget_id", "at"])
    op.create_index("ix_budget_event_user", "budget_event", ["user_id", "at"])
    op.create_table(
        "budget_notification",
        sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("period_start", UtcDateTime, primary_key=True),
        sa.Column("threshold", sa.Integer, primary_key=True),
        sa.Column("notified_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "phone_lock",
        sa.Column("extension", sa.String(64), primary_key=True),
        sa.Column("user_locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("user_locked_at", UtcDateTime),
        sa.Column("user_locked_by", sa.String(128)),
        sa.Column("admin_locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("admin_locked_at", UtcDateTime),
        sa.Column("admin_locked_by", sa.String(128)),
        sa.Column("admin_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "budget_lock",
        sa.Column("extension", sa.String(64), primary_key=True),
        sa.Column("budget_id", sa.Integer, sa.ForeignKey("budget.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("locked_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "phone_pin",
        sa.Column("user_id", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("pin_hash", sa.String(255)),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UtcDateTime),
        sa.Column("changed_at", UtcDateTime),
        sa.Column("changed_by", sa.String(128)),
    )
    op.create_table(
        "phone_device",
        sa.Column("device", sa.String(64), primary_key=True),
        sa.Column("extension", sa.String(64)),
        sa.Column("user_id", sa.String(128)),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("learnt_at", UtcDateTime, nullable=False),
        sa.Column("address", sa.String(64)),
        sa.Column("model", sa.String(64)),
        sa.Column("seen_at", UtcDateTime),
    )
    op.create_table(
        "enforcement_state",
        sa.Column("extension", sa.String(64), primary_key=True),
        sa.Column("engine", sa.String(8), nullable=False),
        sa.Column("intended", sa.String(8), nullable=False),
        sa.Column("applied", sa.String(8)),
        sa.Column("original_css", sa.String(128)),
        sa.Column("original_saved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("line_partition", sa.String(128), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_attempt_at", UtcDateTime),
        sa.Column("next_attempt_at", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("applied_at", UtcDateTime),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_enforcement_state_due", "enforcement_state", ["next_attempt_at"])
    op.create_table(
        "mail_message",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("category", sa.String(32), nullable=False, server_default=""),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UtcDateTime),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("path", sa.String(1024), nullable=False, server_default=""),
    )
    op.create_index("ix_mail_message_due", "mail_message", ["status", "next_attempt_at"])
    op.create_index("ix_mail_message_created", "mail_message", ["created_at"])


def downgrade() -> None:
    for name in (
        "mail_message",
        "enforcement_state",
        "phone_device",
        "phone_pin",
        "budget_lock",
        "phone_lock",
        "budget_notification",
        "budget_event",
        "budget_period",
        "budget",
    ):
        op.drop_table(name)
