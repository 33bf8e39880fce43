"""What every kind of planning shares: the report, plan marks, due courses, outbox rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.orm import Session

from scheduler.config import CampaignConfig
from scheduler.db import insert_ignore
from scheduler.filter import Filter
from scheduler.models import Course, Delivery, DeliveryState, Participant, PlanMark
from scheduler.timing import before_window, date_moment, today_in


@dataclass
class PlanReport:
    """What one planning pass wrote (or, in a dry run, would write)."""

    planned: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(campaign, channel) → new deliveries."""

    @property
    def total(self) -> int:
        return sum(self.planned.values())


def due_courses(session: Session, campaign: CampaignConfig, now: datetime, only: Filter,
                tz: ZoneInfo) -> list[tuple[Course, datetime]]:
    """Open courses whose message for `campaign` is due at `now`, with its due time."""
    today = today_in(now, tz)
    q = select(Course).where(
        Course.status == "open",
        Course.registration_deadline >= today,
    )
    if only.course:
        q = q.where(Course.id == only.course)
    due: list[tuple[Course, datetime]] = []
    timing = campaign.timing
    for course in session.scalars(q.order_by(Course.start_date, Course.id)):
        if timing.kind == "on_publish":
            deadline_end = date_moment(course.registration_deadline, tz) + timedelta(days=1)
            if campaign.min_lead and deadline_end - now < campaign.min_lead:
                continue
            due.append((course, min(course.first_seen_at, now)))
        elif timing.kind == "before":
            assert timing.field and timing.offset is not None
            moment, end = before_window(getattr(course, timing.field), timing.offset, tz)
            if moment <= now < end:
                due.append((course, min(max(moment, course.first_seen_at), now)))
    return due


def get_mark(session: Session, campaign: str, scope: str) -> datetime | None:
    """When `campaign` last planned `scope` (a course id or a digest period), if ever."""
    return session.scalar(
        select(PlanMark.planned_at).where(PlanMark.campaign == campaign, PlanMark.scope == scope)
    )


def set_mark(session: Session, campaign: str, scope: str, now: datetime) -> None:
    """Record that `campaign` planned `scope` at `now`."""
    # Insert-ignore, then move forward only: another replica planning the same scope
    # at the same moment must not make this one fail on the primary key.
    dialect = session.get_bind().dialect.name
    session.execute(
        insert_ignore(PlanMark.__table__, dialect).values(
            campaign=campaign, scope=scope, planned_at=now
        )
    )
    session.execute(
        update(PlanMark)
        .where(
            PlanMark.campaign == campaign,
            PlanMark.scope == scope,
            PlanMark.planned_at < now,
        )
        .values(planned_at=now)
    )


def outbox_row(campaign: CampaignConfig, channel: str, key_prefix: Any, now: datetime,
               participant_id: Any = Participant.id, **columns: Any) -> list[Any]:
    """The labelled SELECT list of a pending delivery per participant row; its dedup
    key is `key_prefix` (an expression, or the text of one) and the participant's id."""
    row = {
        "dedup_key": key_prefix + cast(participant_id, String),
        "campaign": literal(campaign.name),
        "kind": literal(campaign.kind),
        "channel": literal(channel),
        "template": literal(campaign.template),
        "participant_id": participant_id,
        "state": literal(DeliveryState.PENDING.value),
        "attempts": literal(0),
        "created_at": literal(now, Delivery.created_at.type),
        "updated_at": literal(now, Delivery.updated_at.type),
        **columns,
    }
    return [expr.label(name) for name, expr in row.items()]
