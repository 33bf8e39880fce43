"""the due index ends with the row id: a claim reads each state in (due_at, id) order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:30:00

A claim takes each claimable state's oldest due rows, ties broken by id
(`scheduler/outbox/claims.py`). With `ix_deliveries_due (state, due_at)` PostgreSQL had
the order only down to the due time: every row of a planned campaign shares one, so each
claim sorted the whole campaign (152 ms a claim of 100 at 200,000 due; 8.4 ms with the id
in the index). On SQLite the id is the rowid, already at the end of every index entry.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_due", ["state", "due_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_due", ["state", "due_at"], unique=False)
