"""The audience of several courses in one pass over the participants, for SQLite.

`scheduler.matching.batch_audience` gives each course a bit and ORs the bits of every
interest key a participant holds (PostgreSQL's `bit_or`). SQLite has no such aggregate,
so here it is the other way round: each interest key the courses ask for (a topic or
language among their terms, their region, their mode) gets a bit within its kind, and a
participant's keys of one kind are summed into a mask (a participant holds a key once:
the interests' primary key, so the sum of distinct bits is their OR). Each course is
then a mask per kind, and the rules of `matching.match_condition` become a few integer
tests per (participant, course) pair, with the participants and their interests read
once for all the courses instead of once per course. The tests hold both forms to the
reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    select,
    values,
)
from sqlalchemy.orm import Session

from scheduler.matching import ONLINE_MODES, participant_is_reachable
from scheduler.models import Course, CourseTerm, Delivery, Participant, ParticipantInterest

KINDS = ("topic", "language", "region", "mode")
MAX_KEYS = 62
"""Keys of one kind per statement: one bit each of a signed 64-bit integer."""


def course_keys(session: Session, courses: Sequence[Course]) -> dict[str, dict[str, set[str]]]:
    """Course id → kind → the interest keys that let the course through."""
    keys: dict[str, dict[str, set[str]]] = {
        c.id: {"topic": set(), "language": set(), "region": {(c.region or "").lower()},
               "mode": {c.mode}} for c in courses}
    rows = session.execute(select(CourseTerm.course_id, CourseTerm.kind, CourseTerm.value)
                           .where(CourseTerm.course_id.in_(list(keys))))
    for cid, kind, value in rows:
        if kind in ("topic", "language"):
            keys[cid][kind].add(value)
    return keys


def batches(courses: Sequence[Course], keys: dict[str, dict[str, set[str]]]
            ) -> tuple[list[list[Course]], list[Course]]:
    """`courses` in batches whose keys fit `MAX_KEYS` bits per kind (in order), and the
    courses that alone ask for more (planned course by course)."""
    out: list[list[Course]] = []
    alone: list[Course] = []
    batch: list[Course] = []
    seen: dict[str, set[str]] = {k: set() for k in KINDS}
    for c in courses:
        if any(len(keys[c.id][k]) > MAX_KEYS for k in KINDS):
            alone.append(c)
            continue
        if any(len(seen[k] | keys[c.id][k]) > MAX_KEYS for k in KINDS):
            out.append(batch)
            batch, seen = [], {k: set() for k in KINDS}
        batch.append(c)
        for k in KINDS:
            seen[k] |= keys[c.id][k]
    if batch:
        out.append(batch)
    return out, alone


def mask_audience(today: date, courses: Sequence[Course], keys: dict[str, dict[str, set[str]]],
                  due_at: dict[str, datetime], extra: Iterable[ColumnElement[bool]] = ()
                  ) -> Select[Any]:
    """SELECT (course_id, participant_id, due_at) for every matching pair of `courses`
    (one of `batches`; `due_at` each course's due time), participant by participant.
    Courses cancelled or past their registration deadline (as loaded) are left out, as
    `matching.course_is_open` leaves them."""
    courses = [c for c in courses if c.status == "open" and c.registration_deadline >= today]
    if not courses:
        raise ValueError("mask_audience needs at least one open course")
    bits: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for c in courses:
        for k in KINDS:
            for value in sorted(keys[c.id][k]):
                bits[k].setdefault(value, 1 << len(bits[k]))
    key_rows = [(k, v, b) for k in KINDS for v, b in bits[k].items()]
    key_table = values(column("kind", String), column("value", String),
                       column("bit", BigInteger), name="mask_keys").data(key_rows)
    # SQLite names a VALUES list's columns only in a WITH clause.
    key = key_table.cte("mask_keys")
    pref = key_table.cte("mask_pref")

    def mask(c: Course, k: str) -> int:
        return sum(bits[k][v] for v in keys[c.id][k])

    batch = values(column("course_id", String), column("topics", BigInteger),
                   column("langs", BigInteger), column("region", BigInteger),
                   column("mode", BigInteger), column("online", Integer),
                   column("due_at", Delivery.due_at.type), name="mask_courses").data(
        [(c.id, mask(c, "topic"), mask(c, "language"), mask(c, "region"), mask(c, "mode"),
          int(c.mode in ONLINE_MODES), due_at[c.id]) for c in courses]
    ).cte("mask_courses")
    i = ParticipantInterest
    zero = literal(0, BigInteger)

    def summed(kind: str) -> Any:
        return func.sum(case((i.kind == kind, key.c.bit), else_=zero)).label(kind)

    prof = (select(i.participant_id, *(summed(kind) for kind in KINDS))
            .select_from(key).join(i, and_(i.kind == key.c.kind, i.value == key.c.value))
            .group_by(i.participant_id).subquery("prof"))
    preferred = (select(pref.c.bit).where(pref.c.kind == "language",
                                          pref.c.value == Participant.language)
                 .scalar_subquery())
    reach = (select(Participant.id.label("id"), Participant.any_topic, Participant.any_language,
                    Participant.any_region, Participant.any_mode,
                    *(func.coalesce(prof.c[kind], zero).label(kind) for kind in KINDS),
                    func.coalesce(preferred, zero).label("pref"))
             .outerjoin(prof, prof.c.participant_id == Participant.id)
             .where(participant_is_reachable(), *extra)
             .cte("reach").prefix_with("MATERIALIZED"))
    r, cm = reach.c, batch.c

    def meets(held: Any, asked: Any) -> Any:
        return held.bitwise_and(asked) != zero

    matches = and_(
        or_(r.any_topic, meets(r.topic, cm.topics)),
        case((r.any_language, meets(r.pref, cm.langs)), else_=meets(r.language, cm.langs)),
        or_(cm.online == 1, r.any_region, meets(r.region, cm.region)),
        or_(r.any_mode, meets(r.mode, cm.mode)),
    )
    # The WITH clauses in this SELECT, not atop an INSERT of it: Python's sqlite3 counts
    # the rows of a statement that starts with INSERT only.
    return (select(batch.c.course_id, reach.c.id.label("participant_id"), batch.c.due_at)
            .select_from(reach).join(batch, matches)
            .add_cte(key, pref, batch, reach, nest_here=True))
