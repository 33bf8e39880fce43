"""The tables. Every timestamp is timezone-aware UTC (`UTCDateTime`)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; returns them aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


class ParticipantStatus(enum.StrEnum):
    PENDING = "pending"  # no consent recorded yet (double opt-in not confirmed)
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class Centre(Base):
    """An ITU Academy Training Centre (formerly Centre of Excellence)."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    topics: Mapped[list[str]] = mapped_column(default=list)
    focal_email: Mapped[str | None] = mapped_column(String(320))
    """The focal point's address (`focal_point_email` in the centres CSV)."""
    focal_name: Mapped[str] = mapped_column(String(300), default="")
    website: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default="active")
    """`unsubscribed` stops the focal point's invitations (coe_email) only."""


class Contact(Base):
    """An HR focal point of an administration or sector member (catalogue emails)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    country: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    focus_areas: Mapped[list[str]] = mapped_column(default=list)
    """Matching keys (trimmed, lower case); empty: every topic."""
    language: Mapped[str] = mapped_column(String(10), default="en")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Interest(Base):
    """An organisation's answer to a catalogue email: one per (contact, course), the latest."""

    __tablename__ = "interests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(100))
    participants: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | withdrawn
    campaign: Mapped[str] = mapped_column(String(100), default="")
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("contact_id", "course_id", name="uq_interests_contact_course"),
        Index("ix_interests_course", "course_id"),
    )


class Article(Base):
    """An article a centre submitted for News and Events; published only once approved."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_by: Mapped[str] = mapped_column(String(320), default="")
    campaign: Mapped[str] = mapped_column(String(100), default="")
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    coe: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(40))
    topics: Mapped[list[str]] = mapped_column(default=list)
    languages: Mapped[list[str]] = mapped_column(default=list)
    mode: Mapped[str] = mapped_column(String(30))
    location: Mapped[str] = mapped_column(String(300), default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    registration_deadline: Mapped[date] = mapped_column(Date)
    fee_usd: Mapped[float | None] = mapped_column(Numeric(12, 2, asdecimal=False))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    description: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_courses_first_seen", "first_seen_at"),)


class CourseTerm(Base):
    """A course's normalised topic or language, for set-based matching."""

    __tablename__ = "course_terms"

    course_id: Mapped[str] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # topic | language
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    country: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    frequency: Mapped[str] = mapped_column(String(20), default="immediate")
    status: Mapped[str] = mapped_column(String(20), default=ParticipantStatus.PENDING.value)
    consent_date: Mapped[date | None] = mapped_column(Date)
    # Flags say whether the participant restricts that dimension at all; the
    # restrictions themselves are rows of participant_interests.
    any_topic: Mapped[bool] = mapped_column(default=True)
    any_region: Mapped[bool] = mapped_column(default=True)
    any_mode: Mapped[bool] = mapped_column(default=True)
    any_language: Mapped[bool] = mapped_column(default=True)
    last_digest_at: Mapped[datetime | None]
    consent_at: Mapped[datetime | None]
    """When consent was given through the web form's confirmation (double opt-in)."""
    consent_source: Mapped[str | None] = mapped_column(String(20))
    """Where consent came from: `web` (the sign-up form), `import`."""
    form_version: Mapped[str | None] = mapped_column(String(20))
    """The version of the sign-up form the person filled in."""
    subscribed_at: Mapped[datetime | None]
    """When the latest web sign-up began: older confirmation links no longer work."""
    paused_until: Mapped[date | None] = mapped_column(Date)
    """Nothing is sent to the person before this day (their own pause)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The interests as masks of `interest_keys` bits, written with them (NULL: not yet;
    # scheduler.participants.interest_masks). Planning tests these instead of the rows.
    topic_bits: Mapped[int | None] = mapped_column(BigInteger)
    language_bits: Mapped[int | None] = mapped_column(BigInteger)
    region_bits: Mapped[int | None] = mapped_column(BigInteger)
    mode_bits: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_participants_status_freq", "status", "frequency"),
        Index("ix_participants_updated", "updated_at"),
        Index("ix_participants_masks_stale", "id", postgresql_where=text("topic_bits IS NULL"),
              sqlite_where=text("topic_bits IS NULL")),
    )


class ParticipantInterest(Base):
    """One normalised interest key: kind is topic, region, language or mode."""

    __tablename__ = "participant_interests"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (Index("ix_interests_lookup", "kind", "value", "participant_id"),)


class InterestKey(Base):
    """An interest key's bit within its kind (0-62 in order of first use; later keys
    have none: `bit` 63 and up, mask 0), for the participants' masks."""

    __tablename__ = "interest_keys"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    bit: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("kind", "bit", name="uq_interest_keys_bit"),)


class Suppression(Base):
    """Addresses that must never receive mail (hard bounce, complaint, unsubscribe)."""

    __tablename__ = "suppressions"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Delivery(Base):
    """The outbox: one row per message that will ever be sent; `dedup_key` is unique."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    campaign: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[str | None] = mapped_column(String(100))
    participant_id: Mapped[int | None] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    """The recipient of a catalogue email (contacts.id)."""
    centre_id: Mapped[int | None] = mapped_column(Integer)
    """The centre whose focal point a coe_email invites (centres.id)."""
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.PENDING.value)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    send_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    bundle: Mapped[int | None] = mapped_column(Integer)
    """A course email's message id: the id of the lead row of the bundle it goes in (one
    email settles every row of its bundle); None until cadence puts it in one."""

    __table_args__ = (
        # The one index of the state: a claim's (state, channel, due_at, id) order, and the
        # counts by (channel, state) read it alone. Every state change rewrites its entries,
        # once per email (a second state index cost each send's commit 3 more pages).
        Index("ix_deliveries_due", "state", "channel", "due_at", "id"),
        Index("ix_deliveries_bundle", "bundle"),
        Index("ix_deliveries_course", "course_id"),
        Index("ix_deliveries_participant", "participant_id"),
        Index("ix_deliveries_contact", "contact_id"),
        Index("ix_deliveries_centre", "centre_id"),
    )


class DeliveryEvent(Base):
    """The event log, append-only: one row per outcome (sent, failed, bounced, clicked, ...).

    Each row is tagged when written with what the report groups by (channel, campaign,
    region, centre, course, language), so the report reads this table alone. `unit` is
    what the row adds to its metric: 1, or 0 for a repeat that must not count twice (a
    second click of one delivery, a bot's click), or -1 (an interest answer withdrawn);
    `messages` is 1 on the first `sent` row of an email message (a bundle is one email).
    """

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(Integer, index=True)
    type: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(100), default="")
    campaign: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(40), default="")
    centre: Mapped[str] = mapped_column(String(300), default="")
    course: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(10), default="")
    person: Mapped[str] = mapped_column(String(40), default="")
    """Who: `p{participant_id}` (or another writer's key); unsubscribes count people."""
    medium: Mapped[str] = mapped_column(String(10), default="")  # email | social
    message: Mapped[str | None] = mapped_column(String(300))
    """The message's id (an email's Message-ID, a post's id): a bundle's rows share it."""
    category: Mapped[str] = mapped_column(String(30), default="")
    """A bounce's class (hard, soft, policy) or a complaint's feedback type."""
    bot: Mapped[bool] = mapped_column(default=False)
    unit: Mapped[int] = mapped_column(SmallInteger, default=1)
    messages: Mapped[int] = mapped_column(SmallInteger, default=0)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    """An interest answer's participants (as a change from the previous answer)."""

    __table_args__ = (
        Index("ix_delivery_events_at", "at"),
        Index("ix_delivery_events_person", "person", "type", "at"),
        Index("ix_delivery_events_message", "message"),
    )


class ChannelHealth(Base):
    """A channel that needs attention (credentials refused), shown by `channels list`."""

    __tablename__ = "channel_health"

    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    needs_attention: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    config_hash: Mapped[str] = mapped_column(String(64), default="")
    """The channel's config when flagged: an edited config lifts the flag."""
    updated_at: Mapped[datetime]


class PlanMark(Base):
    """When a campaign last planned a scope (a course, or a digest period).

    Incremental planning: a later pass only considers participants activated or
    changed since the mark, so re-planning with nothing new costs almost nothing.
    """

    __tablename__ = "plan_marks"

    campaign: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    planned_at: Mapped[datetime]


class SubmittedPost(Base):
    """A post a centre submitted; posted only once approved, on each named channel."""

    __tablename__ = "submitted_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    course_id: Mapped[str | None] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(default=list)
    earliest_at: Mapped[datetime | None]
    submitted_by: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    source_file: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class DaemonHeartbeat(Base):
    """A `herald run` replica's job ticks: when each last succeeded and runs next."""

    __tablename__ = "daemon_heartbeats"

    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_ok_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
