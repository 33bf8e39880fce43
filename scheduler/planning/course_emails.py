"""Course emails: one per course × matching participant, planned course by course.

On PostgreSQL the courses a campaign plans for the first time go in one plain INSERT
(`batch_audience`: the participants and their interests read once for up to 62 courses)
without ON CONFLICT; see `scheduler.planner` for why that is safe.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, column, func, literal, select, true, values
from sqlalchemy.orm import Session

from scheduler import outbox
from scheduler.config import CampaignConfig
from scheduler.filter import Filter
from scheduler.matching import BATCH_COURSES, batch_audience, match_condition
from scheduler.matching_masks import batches, course_keys, mask_audience
from scheduler.matching_stored import course_masks, stored_audience
from scheduler.models import Course, Delivery, Participant
from scheduler.planning.common import (
    PlanReport,
    due_courses,
    get_mark,
    outbox_row,
    set_mark,
)
from scheduler.timing import today_in


def new_courses_lock(campaign: str) -> int:
    """The advisory lock (a signed 64-bit key) a campaign's first plannings queue on.

    One per campaign, not per course: a first pass over a large catalogue must not
    fill the server's lock table. A collision only makes two campaigns queue.
    """
    digest = hashlib.blake2b(f"herald-plan-new\0{campaign}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def course_key_prefix(campaign: str, course_id: Any) -> Any:
    """The dedup key of a course email up to the participant id: `campaign:course:p`."""
    return literal(f"{campaign}:") + course_id + ":p"


def lock_new_courses(session: Session, campaign: str) -> None:
    """Hold `campaign`'s lock on first plannings until commit (`is_new_course`)."""
    session.execute(select(func.pg_advisory_xact_lock(new_courses_lock(campaign))))


def is_new_course(session: Session, campaign: str, course_id: str) -> bool:
    """Whether `campaign` never planned `course_id`: no plan mark, no delivery.

    Asked under `lock_new_courses`: planners of a campaign's first plannings queue
    on it, and each statement after it (READ COMMITTED) sees what the one before
    committed, so no row this transaction writes for a new course can exist yet.
    """
    if get_mark(session, campaign, course_id) is not None:
        return False
    planned = select(Delivery.id).where(
        Delivery.course_id == course_id, Delivery.campaign == campaign).limit(1)
    return session.scalar(planned) is None


def plan_course_emails(session: Session, campaign: CampaignConfig, channel: str,
                       now: datetime, only: Filter, report: PlanReport, tz: ZoneInfo, *,
                       unguarded: bool = False) -> None:
    """Plan `campaign`'s due course emails on `channel`; `unguarded` lets courses held
    new skip ON CONFLICT (PostgreSQL only)."""
    today = today_in(now, tz)
    new: list[tuple[Course, datetime]] = []
    first: list[tuple[Course, datetime]] = []  # SQLite: never planned, all in one pass
    sqlite = session.get_bind().dialect.name == "sqlite"
    locked = False
    for course, due_at in due_courses(session, campaign, now, only, tz, report):
        mark = get_mark(session, campaign.name, course.id)
        if sqlite and mark is None:
            first.append((course, due_at))
            continue
        if unguarded and mark is None:
            if not locked:
                lock_new_courses(session, campaign.name)
                locked = True
            if is_new_course(session, campaign.name, course.id):
                new.append((course, due_at))
                continue
            # Planned by the one we queued behind, or before plan marks existed.
            mark = get_mark(session, campaign.name, course.id)
        conds = [
            match_condition(today, course),
            Course.id == course.id,
            Participant.frequency == "immediate",
        ]
        if mark is not None:
            # Already planned for everyone known then: only newcomers and changes.
            conds.append(Participant.updated_at >= mark)
        sel = (
            select(*outbox_row(
                campaign, channel, course_key_prefix(campaign.name, Course.id), now,
                course_id=Course.id, due_at=literal(due_at, Delivery.due_at.type)))
            .select_from(Course)
            .join(Participant, literal(True))
            .where(*conds)
        )
        n = outbox.insert_planned(session, sel)
        set_mark(session, campaign.name, course.id, now)
        if n:
            report.planned[(campaign.name, channel)] += n
    for start in range(0, len(new), BATCH_COURSES):
        _plan_new_courses(session, campaign, channel, now, new[start:start + BATCH_COURSES],
                          report, tz)
    if first:
        _plan_first_sqlite(session, campaign, channel, now, first, report, tz)


def _plan_new_courses(session: Session, campaign: CampaignConfig, channel: str,
                      now: datetime, courses: list[tuple[Course, datetime]],
                      report: PlanReport, tz: ZoneInfo) -> None:
    """Plan courses held new (`is_new_course`) in one plain INSERT: on the participants'
    stored interest masks (`stored_audience`), or on their interests (`batch_audience`)
    when a course asks for a key the masks cannot hold."""
    today = today_in(now, tz)
    listed = [c for c, _ in courses]
    masks = course_masks(session, listed)
    sel: Select[Any] | None = None
    if masks is not None:
        open_now = [c for c in listed if c.status == "open" and c.registration_deadline >= today]
        if open_now:
            prefixes = {c.id: f"{campaign.name}:{c.id}:p" for c in open_now}
            stored = stored_audience(today, open_now, masks, dict((c.id, d) for c, d in courses),
                                     prefixes, [Participant.frequency == "immediate"]
                                     ).subquery("pairs")
            sel = select(*outbox_row(
                campaign, channel, stored.c.key_prefix, now, stored.c.participant_id,
                course_id=stored.c.course_id, due_at=stored.c.due_at)).select_from(stored)
    else:
        pairs = batch_audience(today, listed,
                               [Participant.frequency == "immediate"]).subquery("pairs")
        due = values(column("course_id", String), column("due_at", Delivery.due_at.type),
                     name="due").data([(c.id, due_at) for c, due_at in courses])
        sel = (
            select(*outbox_row(
                campaign, channel, course_key_prefix(campaign.name, pairs.c.course_id),
                now, pairs.c.participant_id, course_id=pairs.c.course_id, due_at=due.c.due_at))
            .select_from(pairs)
            .join(due, due.c.course_id == pairs.c.course_id)
        )
    n = outbox.insert_planned(session, sel, guarded=False) if sel is not None else 0
    for course, _ in courses:
        set_mark(session, campaign.name, course.id, now)
    if n:
        report.planned[(campaign.name, channel)] += n


def _plan_first_sqlite(session: Session, campaign: CampaignConfig, channel: str,
                       now: datetime, courses: list[tuple[Course, datetime]],
                       report: PlanReport, tz: ZoneInfo) -> None:
    """SQLite: courses never planned (no plan mark), in batches of one statement each
    (`mask_audience`: the participants read once per batch, not once per course), with
    ON CONFLICT DO NOTHING as ever. A course whose keys need more bits than a batch
    holds is planned alone by the per-course path."""
    today = today_in(now, tz)
    due_at = dict((c.id, when) for c, when in courses)
    keys = course_keys(session, [c for c, _ in courses])
    groups, alone = batches([c for c, _ in courses], keys)
    for course in alone:
        sel = (select(*outbox_row(
                   campaign, channel, course_key_prefix(campaign.name, Course.id), now,
                   course_id=Course.id, due_at=literal(due_at[course.id], Delivery.due_at.type)))
               .select_from(Course).join(Participant, literal(True))
               .where(match_condition(today, course), Course.id == course.id,
                      Participant.frequency == "immediate"))
        n = outbox.insert_planned(session, sel)
        set_mark(session, campaign.name, course.id, now)
        if n:
            report.planned[(campaign.name, channel)] += n
    for group in groups:
        open_now = [c for c in group if c.status == "open" and c.registration_deadline >= today]
        n = 0
        if open_now:
            pairs = mask_audience(today, open_now, keys, due_at,
                                  [Participant.frequency == "immediate"]).subquery("pairs")
            sel = select(*outbox_row(
                campaign, channel, course_key_prefix(campaign.name, pairs.c.course_id),
                now, pairs.c.participant_id, course_id=pairs.c.course_id,
                due_at=pairs.c.due_at)).select_from(pairs).where(true())  # SQLite: a WHERE
            # must part `… FROM pairs` from the upsert's ON CONFLICT
            n = outbox.insert_planned(session, sel)
        for course in group:
            set_mark(session, campaign.name, course.id, now)
        if n:
            report.planned[(campaign.name, channel)] += n
