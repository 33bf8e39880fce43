"""What every kind of planning shares: the report, plan marks, due courses, outbox rows."""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)

IN_CHUNK = 300
"""Scopes per statement (SQLite's oldest limit: 999 parameters, 3 a row)."""


@dataclass
class PlanReport:
    """What one planning pass wrote (or, in a dry run, would write)."""

    planned: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(campaign, channel) → new deliveries."""
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    """(campaign, course id) → why that course could not be planned (it was skipped)."""

    @property
    def total(self) -> int:
        return sum(self.planned.values())


def due_courses(session: Session, campaign: CampaignConfig, now: datetime, only: Filter,
                tz: ZoneInfo, report: PlanReport | None = None, *, quiet: bool = False
                ) -> list[tuple[Course, datetime]]:
    """Open courses whose message for `campaign` is due at `now`, with its due time.

    A course whose due time cannot be worked out (dates beyond what the calendar arithmetic
    handles, data written before the import checks) is reported in `report.failed` and the
    log, and skipped: every other course still plans.
    """
    today = today_in(now, tz)
    q = select(Course).where(
        Course.status == "open",
        Course.registration_deadline >= today,
    )
    if only.course:
        q = q.where(Course.id == only.course)
    due: list[tuple[Course, datetime]] = []
    for course in session.scalars(q.order_by(Course.start_date, Course.id)):
        try:
            when = due_time(campaign, course, now, tz)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if report is not None:
                report.failed[(campaign.name, course.id)] = reason
            if not quiet:
                log.error("campaign %s: course %s skipped, it cannot be planned (%s)",
                          campaign.name, course.id, reason)
            continue
        if when is not None:
            due.append((course, when))
    return due


def due_time(campaign: CampaignConfig, course: Course, now: datetime, tz: ZoneInfo
             ) -> datetime | None:
    """When `campaign`'s message for `course` is due, or None when it is not due now."""
    timing = campaign.timing
    if timing.kind == "on_publish":
        deadline_end = date_moment(course.registration_deadline, tz) + timedelta(days=1)
        if campaign.min_lead and deadline_end - now < campaign.min_lead:
            return None
        return min(course.first_seen_at, now)
    if timing.kind == "before":
        assert timing.field and timing.offset is not None
        moment, end = before_window(getattr(course, timing.field), timing.offset, tz)
        if moment <= now < end:
            return min(max(moment, course.first_seen_at), now)
    return None


def get_mark(session: Session, campaign: str, scope: str) -> datetime | None:
    """When `campaign` last planned `scope` (a course id or a digest period), if ever."""
    return session.scalar(
        select(PlanMark.planned_at).where(PlanMark.campaign == campaign, PlanMark.scope == scope)
    )


def get_marks(session: Session, campaign: str, scopes: list[str]) -> dict[str, datetime]:
    """`get_mark` of many scopes in one statement: scope → when, for those planned."""
    found: dict[str, datetime] = {}
    for i in range(0, len(scopes), IN_CHUNK):
        rows = session.execute(select(PlanMark.scope, PlanMark.planned_at).where(
            PlanMark.campaign == campaign, PlanMark.scope.in_(scopes[i:i + IN_CHUNK])))
        found.update((scope, when) for scope, when in rows)
    return found


def set_mark(session: Session, campaign: str, scope: str, now: datetime) -> None:
    """Record that `campaign` planned `scope` at `now`."""
    set_marks(session, campaign, [scope], now)


def set_marks(session: Session, campaign: str, scopes: list[str], now: datetime) -> None:
    """Record that `campaign` planned each of `scopes` at `now` (two statements a chunk)."""
    # Insert-ignore, then move forward only: another replica planning the same scope
    # at the same moment must not make this one fail on the primary key.
    dialect = session.get_bind().dialect.name
    for i in range(0, len(scopes), IN_CHUNK):
        chunk = scopes[i:i + IN_CHUNK]
        session.execute(insert_ignore(PlanMark.__table__, dialect).values(
            [{"campaign": campaign, "scope": scope, "planned_at": now} for scope in chunk]))
        session.execute(
            update(PlanMark)
            .where(
                PlanMark.campaign == campaign,
                PlanMark.scope.in_(chunk),
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
