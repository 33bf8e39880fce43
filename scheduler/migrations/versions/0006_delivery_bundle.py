"""deliveries.bundle: the message id a bundled course email's rows share (its lead row's id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("bundle", sa.Integer(), nullable=True))
        batch.create_index("ix_deliveries_bundle", ["bundle"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_bundle")
        batch.drop_column("bundle")
