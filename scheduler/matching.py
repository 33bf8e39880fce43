"""The audience of a course, as SQL: which participants match which courses.

Participant P matches course C when (DESIGN.md, "Matching"): P is active and not
suppressed; P has no topics or shares one with C; P's languages (or, without any,
P's preferred language) share one with C's; P has no regions, or C's region is among
them, or C is online; P has no modes or C's mode is among them; C is open and its
registration deadline has not passed. Every comparison is on normalised keys
(trimmed, lower case), stored by ingest in `course_terms` and
`participant_interests`, so the database does the work with its indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from scheduler.models import (
    Course,
    CourseTerm,
    Participant,
    ParticipantInterest,
    ParticipantStatus,
    Suppression,
)

ONLINE_MODES = ("online_instructor", "online_self_paced")


def normalise(value: str) -> str:
    """The key a topic, region, language or mode is compared by."""
    return " ".join(value.split()).casefold()


def _interest(kind: str, value: Any) -> ColumnElement[bool]:
    i = aliased(ParticipantInterest)
    return exists().where(i.participant_id == Participant.id, i.kind == kind, i.value == value)


def _shares_term(kind: str) -> ColumnElement[bool]:
    """P has an interest of `kind` equal to one of C's terms of that kind."""
    i = aliased(ParticipantInterest)
    t = aliased(CourseTerm)
    return exists().where(
        i.participant_id == Participant.id,
        i.kind == kind,
        t.course_id == Course.id,
        t.kind == kind,
        t.value == i.value,
    )


def _course_has_language(value: Any) -> ColumnElement[bool]:
    t = aliased(CourseTerm)
    return exists().where(t.course_id == Course.id, t.kind == "language", t.value == value)


def course_is_open(today: date) -> ColumnElement[bool]:
    """C is not cancelled and its registration deadline (inclusive) has not passed."""
    return and_(Course.status == "open", Course.registration_deadline >= today)


def participant_is_reachable() -> ColumnElement[bool]:
    """P is active (consent confirmed) and not on the suppression list."""
    return and_(
        Participant.status == ParticipantStatus.ACTIVE.value,
        ~exists().where(Suppression.email == Participant.email),
    )


def _with_term(kind: str, course_id: str) -> ColumnElement[bool]:
    """P has an interest of `kind` among the terms of course `course_id` (uncorrelated)."""
    terms = select(CourseTerm.value).where(CourseTerm.course_id == course_id,
                                           CourseTerm.kind == kind)
    return Participant.id.in_(select(ParticipantInterest.participant_id).where(
        ParticipantInterest.kind == kind, ParticipantInterest.value.in_(terms)))


def _with_interest(kind: str, value: str) -> ColumnElement[bool]:
    """P has the interest (`kind`, `value`) (uncorrelated)."""
    return Participant.id.in_(select(ParticipantInterest.participant_id).where(
        ParticipantInterest.kind == kind, ParticipantInterest.value == value))


def match_condition(today: date, course: Course | None = None) -> ColumnElement[bool]:
    """The full matching predicate over `Course` and `Participant` in one FROM.

    With `course` (the FROM then holds that course only, as when the planner plans one),
    the interest tests are written as IN over subqueries that do not refer to the outer
    row: PostgreSQL then builds each one's set once (a hashed subplan) instead of probing
    an index for every participant inside an OR, which it cannot turn into a join. The
    rules are the same; the tests hold both forms to the reference.
    """
    if course is None:
        shares_topic = _shares_term("topic")
        course_has_language = _course_has_language(Participant.language)
        shares_language = _shares_term("language")
        in_region = _interest("region", func.lower(Course.region))
        in_mode = _interest("mode", Course.mode)
    else:
        shares_topic = _with_term("topic", course.id)
        course_has_language = Participant.language.in_(select(CourseTerm.value).where(
            CourseTerm.course_id == course.id, CourseTerm.kind == "language"))
        shares_language = _with_term("language", course.id)
        in_region = _with_interest("region", (course.region or "").lower())
        in_mode = _with_interest("mode", course.mode)
    topics = or_(Participant.any_topic == true(), shares_topic)
    languages = or_(
        and_(Participant.any_language == true(), course_has_language),
        and_(Participant.any_language == false(), shares_language),
    )
    regions = or_(
        Course.mode.in_(ONLINE_MODES),
        Participant.any_region == true(),
        in_region,
    )
    modes = or_(Participant.any_mode == true(), in_mode)
    return and_(
        participant_is_reachable(),
        course_is_open(today),
        topics,
        languages,
        regions,
        modes,
    )


def audience(
    today: date,
    *,
    course_ids: Iterable[str] | None = None,
    participant_ids: Iterable[int] | None = None,
    frequency: str | None = None,
    extra: Iterable[ColumnElement[bool]] = (),
) -> Select[str, int]:
    """SELECT (course_id, participant_id) for every matching pair, narrowed as asked."""
    conds: list[ColumnElement[bool]] = [match_condition(today), *extra]
    if course_ids is not None:
        conds.append(Course.id.in_(list(course_ids)))
    if participant_ids is not None:
        conds.append(Participant.id.in_(list(participant_ids)))
    if frequency is not None:
        conds.append(Participant.frequency == frequency)
    return (
        select(Course.id.label("course_id"), Participant.id.label("participant_id"))
        .select_from(Course)
        .join(Participant, literal(True))
        .where(*conds)
    )
