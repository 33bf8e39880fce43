"""web sign-up: consent time, source and form version; pause; when the last sign-up began

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = scheduler.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("participants") as t:
        t.add_column(sa.Column("consent_at", _UTC, nullable=True))
        t.add_column(sa.Column("consent_source", sa.String(length=20), nullable=True))
        t.add_column(sa.Column("form_version", sa.String(length=20), nullable=True))
        t.add_column(sa.Column("subscribed_at", _UTC, nullable=True))
        t.add_column(sa.Column("paused_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as t:
        for name in ("paused_until", "subscribed_at", "form_version", "consent_source",
                     "consent_at"):
            t.drop_column(name)
