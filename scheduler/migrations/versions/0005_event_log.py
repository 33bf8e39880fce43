"""the event log: delivery_events tagged for the report (channel, campaign, region, ...)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:40:00

Existing rows keep their type, time and detail; their tags are filled in from the
delivery, its course and its participant, as the event writers do for new rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TEXT_TAGS = (("channel", 100), ("campaign", 100), ("region", 40), ("centre", 300),
              ("course", 100), ("language", 10), ("person", 40), ("medium", 10),
              ("category", 30))


def upgrade() -> None:
    with op.batch_alter_table("delivery_events", schema=None) as batch:
        batch.alter_column("delivery_id", existing_type=sa.Integer(), nullable=True)
        for name, length in _TEXT_TAGS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=False,
                                       server_default=""))
        batch.add_column(sa.Column("message", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("bot", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("unit", sa.SmallInteger(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("messages", sa.SmallInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("amount", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.create_index("ix_delivery_events_at", ["at"], unique=False)
        batch.create_index("ix_delivery_events_person", ["person", "type", "at"], unique=False)
        batch.create_index("ix_delivery_events_message", ["message"], unique=False)
    _backfill()


def _backfill() -> None:
    """Tag the rows written before this revision from their deliveries."""
    d = "deliveries"
    op.execute(f"""
        UPDATE delivery_events SET
          channel = COALESCE((SELECT channel FROM {d} WHERE {d}.id = delivery_id), ''),
          campaign = COALESCE((SELECT campaign FROM {d} WHERE {d}.id = delivery_id), ''),
          course = COALESCE((SELECT course_id FROM {d} WHERE {d}.id = delivery_id), ''),
          region = COALESCE((SELECT c.region FROM {d} JOIN courses c ON c.id = {d}.course_id
                             WHERE {d}.id = delivery_id), ''),
          centre = COALESCE((SELECT c.coe FROM {d} JOIN courses c ON c.id = {d}.course_id
                             WHERE {d}.id = delivery_id), ''),
          language = COALESCE((SELECT p.language FROM {d}
                               JOIN participants p ON p.id = {d}.participant_id
                               WHERE {d}.id = delivery_id), ''),
          person = COALESCE((SELECT 'p' || CAST(participant_id AS VARCHAR(20)) FROM {d}
                             WHERE {d}.id = delivery_id AND participant_id IS NOT NULL), ''),
          medium = COALESCE((SELECT CASE WHEN kind LIKE '%post' THEN 'social' ELSE 'email' END
                             FROM {d} WHERE {d}.id = delivery_id), ''),
          message = (SELECT provider_id FROM {d} WHERE {d}.id = delivery_id)
    """)
    op.execute("UPDATE delivery_events SET messages = 1 WHERE type = 'sent' AND medium = 'email'")


def downgrade() -> None:
    with op.batch_alter_table("delivery_events", schema=None) as batch:
        batch.drop_index("ix_delivery_events_message")
        batch.drop_index("ix_delivery_events_person")
        batch.drop_index("ix_delivery_events_at")
        for name in ("amount", "messages", "unit", "bot", "message",
                     *(n for n, _ in reversed(_TEXT_TAGS))):
            batch.drop_column(name)
        batch.alter_column("delivery_id", existing_type=sa.Integer(), nullable=False)
