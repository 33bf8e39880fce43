"""Course emails: one per course × matching participant, planned course by course.

On PostgreSQL the courses a campaign plans for the first time go in one plain INSERT
(`stored_audience` on the participants' stored interest masks, or `batch_audience` on
their interests) without ON CONFLICT; see `scheduler.planner` for why that is safe.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, column, exists, func, literal, select, true, values
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
    get_marks,
    outbox_row,
    set_mark,
    set_marks,
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
    """Hold `campaign`'s lock on first plannings until commit (`new_courses`)."""
    session.execute(select(func.pg_advisory_xact_lock(new_courses_lock(campaign))))


def new_courses(session: Session, campaign: str, course_ids: list[str]) -> set[str]:
    """Those of `course_ids` that `campaign` never planned: no plan mark, no delivery.

    Asked under `lock_new_courses`: planners of a campaign's first plannings queue
    on it, and each statement after it (READ COMMITTED) sees what the one before
    committed, so no row this transaction writes for a new course can exist yet.
    Two statements whatever the number of courses.
    """
    marked = get_marks(session, campaign, course_ids)
    unmarked = [c for c in course_ids if c not in marked]
    if not unmarked:
        return set()
    asked = values(column("course_id", String), name="asked").data([(c,) for c in unmarked])
    planned = set(session.scalars(select(asked.c.course_id).where(exists().where(
        Delivery.course_id == asked.c.course_id, Delivery.campaign == campaign))))
    return set(unmarked) - planned


def plan_course_emails(session: Session, campaign: CampaignConfig, channel: str,
                       now: datetime, only: Filter, report: PlanReport, tz: ZoneInfo, *,
                       unguarded: bool = False) -> None:
    """Plan `campaign`'s due course emails on `channel`; `unguarded` lets courses held
    new skip ON CONFLICT (PostgreSQL only)."""
    due = due_courses(session, campaign, now, only, tz, report)
    marks = get_marks(session, campaign.name, [c.id for c, _ in due])
    unmarked = [(c, due_at) for c, due_at in due if c.id not in marks]
    planned_before = [(c, due_at, marks[c.id]) for c, due_at in due if c.id in marks]
    if session.get_bind().dialect.name == "sqlite":
        if unmarked:  # never planned: all in one pass
            _plan_first_sqlite(session, campaign, channel, now, unmarked, report, tz)
        unmarked = []
    elif unguarded and unmarked:
        lock_new_courses(session, campaign.name)
        fresh = new_courses(session, campaign.name, [c.id for c, _ in unmarked])
        new = [(c, due_at) for c, due_at in unmarked if c.id in fresh]
        # The others were planned by the one we queued behind, or before plan marks.
        marks = get_marks(session, campaign.name, [c.id for c, _ in unmarked])
        unmarked = [(c, due_at) for c, due_at in unmarked if c.id not in fresh]
        for start in range(0, len(new), BATCH_COURSES):
            _plan_new_courses(session, campaign, channel, now,
                              new[start:start + BATCH_COURSES], report, tz)
    for course, due_at, mark in [*planned_before,
                                 *((c, d, marks.get(c.id)) for c, d in unmarked)]:
        _plan_course(session, campaign, channel, now, course, due_at, mark, report, tz)


def _plan_course(session: Session, campaign: CampaignConfig, channel: str, now: datetime,
                 course: Course, due_at: datetime, mark: datetime | None, report: PlanReport,
                 tz: ZoneInfo) -> None:
    """One course with ON CONFLICT DO NOTHING: since `mark`, only newcomers and changes."""
    conds = [
        match_condition(today_in(now, tz), course),
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


def _plan_new_courses(session: Session, campaign: CampaignConfig, channel: str,
                      now: datetime, courses: list[tuple[Course, datetime]],
                      report: PlanReport, tz: ZoneInfo) -> None:
    """Plan courses held new (`new_courses`) in one plain INSERT: on the participants'
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
    set_marks(session, campaign.name, [c.id for c, _ in courses], now)
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
        set_marks(session, campaign.name, [c.id for c in group], now)
        if n:
            report.planned[(campaign.name, channel)] += n
