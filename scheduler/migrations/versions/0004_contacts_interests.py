"""administrations and centres: contacts, interests, articles, centre focal points, and the
recipient of a catalogue or invitation email on deliveries (contact_id, centre_id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import scheduler.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = scheduler.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("centres") as t:
        t.add_column(sa.Column("focal_name", sa.String(300), nullable=False, server_default=""))
        t.add_column(sa.Column("website", sa.Text(), nullable=False, server_default=""))
        t.add_column(sa.Column("language", sa.String(10), nullable=False, server_default="en"))
        t.add_column(sa.Column("status", sa.String(20), nullable=False,
                               server_default="active"))
    with op.batch_alter_table("deliveries") as t:
        t.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
    op.create_index("ix_deliveries_contact", "deliveries", ["contact_id"])
    op.create_index("ix_deliveries_centre", "deliveries", ["centre_id"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("organisation", sa.String(300), nullable=False),
        sa.Column("country", sa.String(100), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("focus_areas", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(100), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id", "course_id", name="uq_interests_contact_course"),
    )
    op.create_index("ix_interests_course", "interests", ["course_id"])
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.String(320), nullable=False),
        sa.Column("campaign", sa.String(100), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("articles")
    op.drop_index("ix_interests_course", table_name="interests")
    op.drop_table("interests")
    op.drop_table("contacts")
    op.drop_index("ix_deliveries_centre", table_name="deliveries")
    op.drop_index("ix_deliveries_contact", table_name="deliveries")
    with op.batch_alter_table("deliveries") as t:
        t.drop_column("centre_id")
        t.drop_column("contact_id")
    with op.batch_alter_table("centres") as t:
        t.drop_column("status")
        t.drop_column("language")
        t.drop_column("website")
        t.drop_column("focal_name")
