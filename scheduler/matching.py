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

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    column,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    values,
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
BATCH_COURSES = 62
"""Courses per `batch_audience` statement: one bit each of a (signed 64-bit) mask."""


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


def batch_audience(
    today: date, courses: Sequence[Course], extra: Iterable[ColumnElement[bool]] = ()
) -> Select[str, int]:
    """SELECT (course_id, participant_id) for every matching pair of `courses` (at most
    BATCH_COURSES), reading the participants and their interests once (PostgreSQL 12+:
    bit_or, MATERIALIZED).

    The rules of `match_condition`, as sets of courses: each course is one bit; each
    interest key a course asks for (a topic or language among its terms, its region,
    its mode) stands for the mask of the courses asking for it. A participant's keys
    of one kind, OR-ed together, are the courses that kind lets through (all of them
    when the participant does not restrict the kind; for languages, then, the courses
    in the preferred language); the four kinds AND-ed together are the courses the
    participant matches. Course by course, the same work is a pass over all the
    participants with a hash of each interest set, built again for every course.
    """
    if not 0 < len(courses) <= BATCH_COURSES:
        raise ValueError(f"batch_audience takes 1 to {BATCH_COURSES} courses")
    bit = {c.id: 1 << i for i, c in enumerate(courses)}
    everyone = sum(bit.values())
    online = sum(bit[c.id] for c in courses if c.mode in ONLINE_MODES)
    batch = values(column("course_id", String), column("bit", BigInteger),
                   name="batch").data(list(bit.items()))
    own: dict[tuple[str, str], int] = {}  # region and mode keys, as the per-course form
    for c in courses:
        for key in (("region", (c.region or "").lower()), ("mode", c.mode)):
            own[key] = own.get(key, 0) | bit[c.id]
    own_keys = values(column("kind", String), column("value", String),
                      column("courses", BigInteger), name="own_keys").data(
        [(kind, value, mask) for (kind, value), mask in own.items()])
    term_keys = (
        select(CourseTerm.kind, CourseTerm.value, func.bit_or(batch.c.bit).label("courses"))
        .join(batch, batch.c.course_id == CourseTerm.course_id)
        .group_by(CourseTerm.kind, CourseTerm.value)
    )
    keys = union_all(term_keys, select(own_keys)).cte("keys")

    i = ParticipantInterest

    def kind_mask(kind: str) -> Any:
        return func.bit_or(keys.c.courses).filter(i.kind == kind).label(kind)

    prof = (
        select(i.participant_id, *(kind_mask(k) for k in ("topic", "language", "region",
                                                         "mode")))
        .join(keys, and_(keys.c.kind == i.kind, keys.c.value == i.value))
        .group_by(i.participant_id)
        .subquery("prof")
    )
    preferred = keys.alias("preferred")
    zero = literal(0, BigInteger)

    def lets_through(unrestricted: Any, mask: Any) -> Any:
        return case((unrestricted, literal(everyone, BigInteger)),
                    else_=func.coalesce(mask, zero))

    languages = case((Participant.any_language, func.coalesce(preferred.c.courses, zero)),
                     else_=func.coalesce(prof.c.language, zero))
    mask = (
        lets_through(Participant.any_topic, prof.c.topic)
        .bitwise_and(languages)
        .bitwise_and(literal(online, BigInteger).bitwise_or(
            lets_through(Participant.any_region, prof.c.region)))
        .bitwise_and(lets_through(Participant.any_mode, prof.c.mode))
    )
    # Materialized: each participant's mask is worked out once, not once per course.
    matched = (
        select(Participant.id.label("participant_id"), mask.label("courses"))
        .outerjoin(prof, prof.c.participant_id == Participant.id)
        .outerjoin(preferred, and_(preferred.c.kind == "language",
                                   preferred.c.value == Participant.language))
        .where(participant_is_reachable(), *extra)
        .cte("matched")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        select(batch.c.course_id, matched.c.participant_id)
        .select_from(matched)
        .join(batch, matched.c.courses.bitwise_and(batch.c.bit) != zero)
        .join(Course, Course.id == batch.c.course_id)
        # Many match none of the courses: drop them before pairing with each course.
        .where(matched.c.courses != zero, course_is_open(today))
    )
