"""Leases on the database clock, per-attempt results (fence), pools and priorities, nodes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("fence", sa.Integer(), server_default="0", nullable=False))
    op.add_column("jobs", sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
    op.add_column("jobs", sa.Column("pool", sa.String(length=64), server_default="default", nullable=False))
    op.add_column("jobs", sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.add_column("jobs", sa.Column("result_key", sa.String(length=255), nullable=True))
    op.create_index("ix_jobs_claim", "jobs", ["status", "pool", "priority", "created_at"], unique=False)
    # Every claim so far was one attempt; files of the first release live under "<id>/".
    op.execute("UPDATE jobs SET fence = attempts")
    op.execute("UPDATE jobs SET result_key = id WHERE status = 'COMPLETED'")
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("pid_space", sa.String(length=255), nullable=False),
        sa.Column("pool", sa.String(length=64), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("alive", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_nodes_last_seen"), "nodes", ["last_seen"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_nodes_last_seen"), table_name="nodes")
    op.drop_table("nodes")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    for column in ("result_key", "priority", "pool", "lease_expires_at", "fence"):
        op.drop_column("jobs", column)
