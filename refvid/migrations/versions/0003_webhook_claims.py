"""Webhook deliveries are claimed: one sender per delivery, one row per attempt number.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("webhook_claimed_until", sa.DateTime(), nullable=True))
    op.create_index(
        "uq_webhook_attempts_job_attempt", "webhook_attempts", ["job_id", "attempt"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_webhook_attempts_job_attempt", table_name="webhook_attempts")
    op.drop_column("jobs", "webhook_claimed_until")
