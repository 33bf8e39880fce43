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


def match_condition(today: date) -> ColumnElement[bool]:
    """The full matching predicate over `Course` and `Participant` in one FROM."""
    topics = or_(Participant.any_topic == true(), _shares_term("topic"))
    languages = or_(
        and_(Participant.any_language == true(), _course_has_language(Participant.language)),
        and_(Participant.any_language == false(), _shares_term("language")),
    )
    regions = or_(
        Course.mode.in_(ONLINE_MODES),
        Participant.any_region == true(),
        _interest("region", func.lower(Course.region)),
    )
    modes = or_(Participant.any_mode == true(), _interest("mode", Course.mode))
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
