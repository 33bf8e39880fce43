"""one index of the delivery state: (state, channel, due_at, id) replaces two

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:15:00

Each email's send moves its delivery pending → sending → sent, and every index holding the
state has its entry rewritten at each step: with `ix_deliveries_due (state, due_at, id)`
and `ix_deliveries_channel_state (channel, state)` that was about 6 of the 14 pages each
send's commit wrote to SQLite's WAL (`bench/commit_bench.py`). One index
`(state, channel, due_at, id)` serves both: a claim (`state = ? AND channel = ? AND due_at
<= ?` in due_at, id order, now without filtering other channels' rows) and the counts by
channel and state (a scan of the index alone).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_channel_state")
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_due", ["state", "channel", "due_at", "id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_due")
        batch_op.create_index("ix_deliveries_due", ["state", "due_at", "id"], unique=False)
        batch_op.create_index("ix_deliveries_channel_state", ["channel", "state"],
                              unique=False)
