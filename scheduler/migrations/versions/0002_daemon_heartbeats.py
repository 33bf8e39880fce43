"""daemon heartbeats: each replica's last good tick and next run, per job

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemon_heartbeats",
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("last_ok_at", scheduler.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", scheduler.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("owner", "job"),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeats")
