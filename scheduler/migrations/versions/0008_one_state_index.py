"""deliveries: one index on the state instead of two (state, due_at, channel)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00

Every state change of a delivery (`pending` → `sending` → `sent`, one commit an email)
moved an entry in both `ix_deliveries_due` (state, due_at) and `ix_deliveries_channel_state`
(channel, state): each commit wrote both indexes' pages to the WAL. One index,
`ix_deliveries_due` (state, due_at, channel), keeps every plan that walked (state, due_at)
— the claim, the cadence pass, the outbox views — and checks the channel inside the index;
the lookups by (channel, state) walk the state's range of it instead. About three WAL
pages fewer a commit on SQLite.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_channel_state", table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["state", "due_at", "channel"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["state", "due_at"])
    op.create_index("ix_deliveries_channel_state", "deliveries", ["channel", "state"])
