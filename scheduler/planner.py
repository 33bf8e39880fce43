"""Campaigns × matching → deliveries (the outbox).

Every planned message is one row keyed by its dedup key, unique in the database, so
two planners, two daemons or a crash and a restart cannot make a second copy; it is
written by `INSERT … SELECT … ON CONFLICT DO NOTHING` but for the case below. Courses
are few (hundreds) and are looped over in Python; participants are many and are only
ever touched by SQL.

On PostgreSQL the courses a campaign plans for the first time go in one plain INSERT
(`batch_audience`: the participants and their interests read once for up to 62
courses, instead of once per course) without ON CONFLICT, whose speculative insertion
(a unique-index probe, a lock and an extra WAL record per row) cost a fifth of the
time. Each such course was found with neither a plan mark nor a delivery under the
campaign's transaction-scoped advisory lock, which planners take before planning a
course for the first time, so none of its rows can exist; the unique index still
stands behind it, and a row written by a planner that took no lock sends the whole
pass back to ON CONFLICT DO NOTHING (`Planner.plan`). Later passes (newcomers and
changes since the plan mark) and SQLite plan course by course with ON CONFLICT.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
    values,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.config import CampaignConfig, HeraldConfig
from scheduler.db import insert_ignore
from scheduler.matching import (
    BATCH_COURSES,
    batch_audience,
    match_condition,
    participant_is_reachable,
)
from scheduler.models import Course, Delivery, DeliveryState, Participant, PlanMark
from scheduler.slots import take_slot
from scheduler.timing import (
    before_window,
    date_moment,
    last_cron_fire,
    today_in,
)

log = logging.getLogger(__name__)

EMAIL_KINDS = ("course_email", "digest")
ACTIVE_STATES = (
    DeliveryState.PENDING.value,
    DeliveryState.RETRYING.value,
    DeliveryState.SENDING.value,
    DeliveryState.SENT.value,
    DeliveryState.UNKNOWN.value,
)


UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class _Unguarded(Exception):
    """A plain INSERT met a dedup key that its campaign's lock should have kept out."""


def _new_courses_lock(campaign: str) -> int:
    """The advisory lock (a signed 64-bit key) a campaign's first plannings queue on.

    One per campaign, not per course: a first pass over a large catalogue must not
    fill the server's lock table. A collision only makes two campaigns queue.
    """
    digest = hashlib.blake2b(f"herald-plan-new\0{campaign}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _course_key_prefix(campaign: str, course_id: Any) -> Any:
    """The dedup key of a course email up to the participant id: `campaign:course:p`."""
    return literal(f"{campaign}:") + course_id + ":p"


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


@dataclass(frozen=True)
class PlanFilter:
    campaign: str | None = None
    course: str | None = None
    channel: str | None = None


class Planner:
    """Plans every enabled campaign at a given `now`."""

    def __init__(self, sessions: sessionmaker[Session], config: HeraldConfig) -> None:
        self.sessions = sessions
        self.config = config
        self.tz = ZoneInfo(config.settings.timezone)

    def plan(
        self, now: datetime, *, only: PlanFilter | None = None, dry_run: bool = False
    ) -> PlanReport:
        """Plan everything due at `now`; with `dry_run`, count it and write nothing."""
        only = only or PlanFilter()
        try:
            return self._plan(now, only, dry_run, unguarded=True)
        except _Unguarded:
            # Nothing was written (the transaction rolled back): a replica that plans
            # without the lock (an older version) is at work; share its way.
            log.warning("planning met a delivery planned without the campaign's lock; "
                        "planning again with ON CONFLICT DO NOTHING for every row")
            return self._plan(now, only, dry_run, unguarded=False)

    def _plan(self, now: datetime, only: PlanFilter, dry_run: bool, *,
              unguarded: bool) -> PlanReport:
        """One planning transaction; `unguarded` lets a course planned for the first
        time under its campaign's lock skip ON CONFLICT (PostgreSQL only)."""
        report = PlanReport()
        with self.sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Each planning statement is run once: JIT compiling it costs about a
                # second and gains nothing (this transaction only).
                session.execute(text("SET LOCAL jit = off"))
            else:
                unguarded = False  # SQLite checks the unique index either way
            for campaign in self.config.campaigns.values():
                if not campaign.enabled or (only.campaign and campaign.name != only.campaign):
                    continue
                channels = [
                    c
                    for c in campaign.channels
                    if self._channel_enabled(c) and (not only.channel or c == only.channel)
                ]
                if not channels:
                    continue
                if campaign.kind == "course_email":
                    self._plan_course_email(session, campaign, channels[0], now, only, report,
                                            unguarded=unguarded)
                elif campaign.kind == "digest":
                    self._plan_digest(session, campaign, channels[0], now, report)
                elif campaign.kind == "course_post":
                    for channel in channels:
                        self._plan_course_post(session, campaign, channel, now, only, report)
                else:
                    log.debug(
                        "campaign %s: kind %s is not planned here", campaign.name, campaign.kind
                    )
            if dry_run:
                session.rollback()
            else:
                session.commit()
        return report

    # -- helpers -----------------------------------------------------------

    def _channel_enabled(self, name: str) -> bool:
        ch = self.config.channels.get(name)
        return ch is not None and ch.enabled

    def check_courses(self, now: datetime) -> dict[tuple[str, str], str]:
        """(campaign, course id) → why planning skips that course now; writes nothing."""
        report = PlanReport()
        with self.sessions() as session:
            for campaign in self.config.campaigns.values():
                if campaign.enabled and campaign.kind in ("course_email", "course_post"):
                    self._due_courses(session, campaign, now, PlanFilter(), report, quiet=True)
        return report.failed

    def _due_courses(
        self, session: Session, campaign: CampaignConfig, now: datetime, only: PlanFilter,
        report: PlanReport, *, quiet: bool = False,
    ) -> list[tuple[Course, datetime]]:
        """Open courses whose message for `campaign` is due at `now`, with its due time.

        A course whose due time cannot be worked out (dates beyond what the calendar
        arithmetic handles, data written before the import checks) is reported in
        `report.failed` and the log, and skipped: every other course still plans.
        """
        today = today_in(now, self.tz)
        q = select(Course).where(
            Course.status == "open",
            Course.registration_deadline >= today,
        )
        if only.course:
            q = q.where(Course.id == only.course)
        due: list[tuple[Course, datetime]] = []
        for course in session.scalars(q.order_by(Course.start_date, Course.id)):
            try:
                when = self._due_time(campaign, course, now)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                report.failed[(campaign.name, course.id)] = reason
                if not quiet:
                    log.error("campaign %s: course %s skipped, it cannot be planned (%s)",
                              campaign.name, course.id, reason)
                continue
            if when is not None:
                due.append((course, when))
        return due

    def _due_time(self, campaign: CampaignConfig, course: Course, now: datetime
                  ) -> datetime | None:
        """When `campaign`'s message for `course` is due, or None when it is not due now."""
        timing = campaign.timing
        if timing.kind == "on_publish":
            deadline_end = date_moment(course.registration_deadline, self.tz) + timedelta(days=1)
            if campaign.min_lead and deadline_end - now < campaign.min_lead:
                return None
            return min(course.first_seen_at, now)
        if timing.kind == "before":
            assert timing.field and timing.offset is not None
            moment, end = before_window(getattr(course, timing.field), timing.offset, self.tz)
            if moment <= now < end:
                return min(max(moment, course.first_seen_at), now)
        return None

    def _mark(self, session: Session, campaign: str, scope: str) -> datetime | None:
        return session.scalar(
            select(PlanMark.planned_at).where(
                PlanMark.campaign == campaign, PlanMark.scope == scope
            )
        )

    def _set_mark(self, session: Session, campaign: str, scope: str, now: datetime) -> None:
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

    @staticmethod
    def _lock_new_courses(session: Session, campaign: str) -> None:
        """Hold `campaign`'s lock on first plannings until commit (`_new_course`)."""
        session.execute(select(func.pg_advisory_xact_lock(_new_courses_lock(campaign))))

    def _new_course(self, session: Session, campaign: str, course_id: str) -> bool:
        """Whether `campaign` never planned `course_id`: no plan mark, no delivery.

        Asked under `_lock_new_courses`: planners of a campaign's first plannings queue
        on it, and each statement after it (READ COMMITTED) sees what the one before
        committed, so no row this transaction writes for a new course can exist yet.
        """
        if self._mark(session, campaign, course_id) is not None:
            return False
        planned = select(Delivery.id).where(
            Delivery.course_id == course_id, Delivery.campaign == campaign).limit(1)
        return session.scalar(planned) is None

    def _insert(self, session: Session, select_stmt: Any, *, guarded: bool = True) -> int:
        """INSERT the rows of `select_stmt`, whose labels name the outbox columns: with
        ON CONFLICT DO NOTHING unless every row is of a course held new (`_new_course`)."""
        columns = [c.name for c in select_stmt.selected_columns]
        if guarded:
            stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name)
            return int(session.execute(  # type: ignore[attr-defined]
                stmt.from_select(columns, select_stmt)).rowcount or 0)
        plain = insert(Delivery).from_select(columns, select_stmt)
        try:
            result = session.execute(plain.execution_options(preserve_rowcount=True))
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION:
                raise _Unguarded(str(exc.orig)) from exc
            raise
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _outbox_row(campaign: CampaignConfig, channel: str, key_prefix: Any, now: datetime,
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

    # -- course emails -----------------------------------------------------

    def _plan_course_email(
        self,
        session: Session,
        campaign: CampaignConfig,
        channel: str,
        now: datetime,
        only: PlanFilter,
        report: PlanReport,
        *,
        unguarded: bool = False,
    ) -> None:
        today = today_in(now, self.tz)
        new: list[tuple[Course, datetime]] = []
        locked = False
        for course, due_at in self._due_courses(session, campaign, now, only, report):
            mark = self._mark(session, campaign.name, course.id)
            if unguarded and mark is None:
                if not locked:
                    self._lock_new_courses(session, campaign.name)
                    locked = True
                if self._new_course(session, campaign.name, course.id):
                    new.append((course, due_at))
                    continue
                # Planned by the one we queued behind, or before plan marks existed.
                mark = self._mark(session, campaign.name, course.id)
            conds = [
                match_condition(today, course),
                Course.id == course.id,
                Participant.frequency == "immediate",
            ]
            if mark is not None:
                # Already planned for everyone known then: only newcomers and changes.
                conds.append(Participant.updated_at >= mark)
            sel = (
                select(*self._outbox_row(
                    campaign, channel, _course_key_prefix(campaign.name, Course.id), now,
                    course_id=Course.id, due_at=literal(due_at, Delivery.due_at.type)))
                .select_from(Course)
                .join(Participant, literal(True))
                .where(*conds)
            )
            n = self._insert(session, sel)
            self._set_mark(session, campaign.name, course.id, now)
            if n:
                report.planned[(campaign.name, channel)] += n
        for start in range(0, len(new), BATCH_COURSES):
            self._plan_new_courses(session, campaign, channel, now,
                                   new[start:start + BATCH_COURSES], report)

    def _plan_new_courses(self, session: Session, campaign: CampaignConfig, channel: str,
                          now: datetime, courses: list[tuple[Course, datetime]],
                          report: PlanReport) -> None:
        """Plan courses held new (`_new_course`) in one plain INSERT (`batch_audience`)."""
        pairs = batch_audience(today_in(now, self.tz), [c for c, _ in courses],
                               [Participant.frequency == "immediate"]).subquery("pairs")
        due = values(column("course_id", String), column("due_at", Delivery.due_at.type),
                     name="due").data([(c.id, due_at) for c, due_at in courses])
        sel = (
            select(*self._outbox_row(
                campaign, channel, _course_key_prefix(campaign.name, pairs.c.course_id),
                now, pairs.c.participant_id, course_id=pairs.c.course_id, due_at=due.c.due_at))
            .select_from(pairs)
            .join(due, due.c.course_id == pairs.c.course_id)
        )
        n = self._insert(session, sel, guarded=False)
        for course, _ in courses:
            self._set_mark(session, campaign.name, course.id, now)
        if n:
            report.planned[(campaign.name, channel)] += n

    # -- digests -----------------------------------------------------------

    def _plan_digest(
        self,
        session: Session,
        campaign: CampaignConfig,
        channel: str,
        now: datetime,
        report: PlanReport,
    ) -> None:
        assert campaign.timing.cron
        fire = last_cron_fire(campaign.timing.cron, now, self.tz)
        if fire is None:
            return
        period = fire.strftime("%Y-%m-%dT%H%MZ")
        if self._mark(session, campaign.name, period) is not None:
            return
        today = today_in(now, self.tz)
        new_course = (
            select(literal(1))
            .select_from(Course)
            .where(
                match_condition(today),
                Course.first_seen_at <= fire,
                or_(
                    Participant.last_digest_at.is_(None),
                    Course.first_seen_at > Participant.last_digest_at,
                ),
            )
            .correlate(Participant)
        )
        sel = select(*self._outbox_row(
            campaign, channel, f"{campaign.name}:{period}:p", now,
            period_start=Participant.last_digest_at,
            period_end=literal(fire, Delivery.period_end.type),
            due_at=literal(fire, Delivery.due_at.type),
        )).where(
            Participant.frequency == "weekly",
            participant_is_reachable(),
            exists(new_course),
        )
        n = self._insert(session, sel)
        # The next digest lists what is new after this one.
        planned = select(Delivery.participant_id).where(
            Delivery.campaign == campaign.name, Delivery.period_end == fire
        )
        session.execute(
            update(Participant).where(Participant.id.in_(planned)).values(last_digest_at=fire)
        )
        self._set_mark(session, campaign.name, period, now)
        if n:
            report.planned[(campaign.name, channel)] += n

    # -- social posts ------------------------------------------------------

    def take_slot(
        self, session: Session, channel: str, earliest: datetime, now: datetime
    ) -> datetime:
        """The next free posting slot on `channel` at or after `earliest` (and `now`)."""
        return take_slot(self.config, session, channel, earliest, now)

    def _plan_course_post(
        self,
        session: Session,
        campaign: CampaignConfig,
        channel: str,
        now: datetime,
        only: PlanFilter,
        report: PlanReport,
    ) -> None:
        for course, due_at in self._due_courses(session, campaign, now, only, report):
            key = f"{campaign.name}:{course.id}:{channel}"
            if session.scalar(select(Delivery.id).where(Delivery.dedup_key == key)):
                continue
            slot = self.take_slot(session, channel, due_at, now)
            stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name).values(
                dedup_key=key,
                campaign=campaign.name,
                kind=campaign.kind,
                channel=channel,
                template=campaign.template,
                course_id=course.id,
                state=DeliveryState.PENDING.value,
                due_at=slot,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            if session.execute(stmt).rowcount:  # type: ignore[attr-defined]
                report.planned[(campaign.name, channel)] += 1
