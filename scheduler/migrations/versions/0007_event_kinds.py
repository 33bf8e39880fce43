"""the event log's kinds made exact: social posts are `posted`, send-time bounces `refused`

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:00:00

Rows written before this revision said `sent` for a social post and category `hard` for an
address the server refused at send time (a delivery never sent): the report now tells
them apart (`posts`; `delivered` takes off only the bounces of sent emails). Data only.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE delivery_events SET type = 'posted' "
               "WHERE type = 'sent' AND medium = 'social'")
    op.execute("""
        UPDATE delivery_events SET category = 'refused'
        WHERE type = 'bounced' AND category = 'hard' AND delivery_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM delivery_events AS s
                          WHERE s.delivery_id = delivery_events.delivery_id
                            AND s.type = 'sent' AND s.id < delivery_events.id)
    """)


def downgrade() -> None:
    op.execute("UPDATE delivery_events SET type = 'sent' WHERE type = 'posted'")
    op.execute("UPDATE delivery_events SET category = 'hard' "
               "WHERE type = 'bounced' AND category = 'refused'")
