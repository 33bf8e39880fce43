"""participants' interests as masks: `interest_keys` numbers each key within its kind,
four mask columns on `participants` (planning tests bits instead of reading interests)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00

Upgrade works out the masks of every stored participant (the rules of
`scheduler.participants.interest_masks`, written out here so that later code changes do
not change what this revision does); downgrade drops them, losing nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ("topic_bits", "language_bits", "region_bits", "mode_bits")
MASK = "CASE WHEN k.bit < 63 THEN CAST(1 AS BIGINT) << k.bit ELSE 0 END"
PREFERRED = (f"(SELECT {MASK} FROM interest_keys AS k "
             "WHERE k.kind = 'language' AND k.value = participants.language)")


def upgrade() -> None:
    op.create_table(
        "interest_keys",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("bit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value"),
        sa.UniqueConstraint("kind", "bit", name="uq_interest_keys_bit"),
    )
    for name in COLUMNS:
        op.add_column("participants", sa.Column(name, sa.BigInteger(), nullable=True))
    op.create_index("ix_participants_masks_stale", "participants", ["id"],
                    postgresql_where=sa.text("topic_bits IS NULL"),
                    sqlite_where=sa.text("topic_bits IS NULL"))
    op.execute("""
        INSERT INTO interest_keys (kind, value, bit)
        SELECT kind, value, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY value) - 1
        FROM (SELECT kind, value FROM participant_interests
              UNION SELECT 'language', language FROM participants) AS keys
    """)
    sums = ", ".join(f"SUM(CASE WHEN i.kind = '{kind}' THEN {MASK} ELSE 0 END) AS {kind}"
                     for kind in ("topic", "language", "region", "mode"))
    op.execute(f"""
        UPDATE participants SET
            topic_bits = CASE WHEN any_topic THEN -1 ELSE held.topic END,
            language_bits = CASE WHEN any_language THEN {PREFERRED} ELSE held.language END,
            region_bits = CASE WHEN any_region THEN -1 ELSE held.region END,
            mode_bits = CASE WHEN any_mode THEN -1 ELSE held.mode END
        FROM (SELECT i.participant_id AS pid, {sums}
              FROM participant_interests AS i
              JOIN interest_keys AS k ON k.kind = i.kind AND k.value = i.value
              GROUP BY i.participant_id) AS held
        WHERE participants.id = held.pid
    """)
    op.execute(f"""
        UPDATE participants SET
            topic_bits = CASE WHEN any_topic THEN -1 ELSE 0 END,
            language_bits = CASE WHEN any_language THEN COALESCE({PREFERRED}, 0) ELSE 0 END,
            region_bits = CASE WHEN any_region THEN -1 ELSE 0 END,
            mode_bits = CASE WHEN any_mode THEN -1 ELSE 0 END
        WHERE topic_bits IS NULL
    """)


def downgrade() -> None:
    op.drop_index("ix_participants_masks_stale", table_name="participants")
    # Not batch mode: SQLite would copy `participants` into a new table and drop the old
    # one, whose ON DELETE CASCADE would empty participant_interests (SQLite 3.35+ drops
    # a column in place).
    for name in reversed(COLUMNS):
        op.drop_column("participants", name)
    op.drop_table("interest_keys")
