"""The audience of several courses from the participants' stored interest masks.

`scheduler.participants.interest_masks` keeps, on each participant's row, one mask per
kind (the bits of their topics, languages, regions and modes in `interest_keys`; -1 for
a kind they leave open; for languages left open, the bit of the preferred one). Each
course is the same four masks of the keys it asks for, plus bit 63 (set only in -1) for
the kinds a participant may leave open, and -1 for the region of an online course. The
rules of `matching.match_condition` are then four bit tests per (participant, course):
one scan of the participants, no interest row read, nothing grouped.

A course asking for a key beyond the 63 numbered in its kind cannot be tested on masks:
`course_masks` says so (None) and the caller matches that batch on the interests
(`matching.batch_audience`). The tests hold this form to the reference and to the
interests' form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, column, literal, select, values
from sqlalchemy.orm import Session

from scheduler.matching import ONLINE_MODES, participant_is_reachable
from scheduler.models import Course, CourseTerm, Delivery, Participant
from scheduler.participants.interest_masks import (
    ANY,
    KEY_BITS,
    ONLY_ANY,
    known_keys,
    mask_of,
    refresh_stale,
)

CourseMasks = tuple[int, int, int, int]
"""A course's (topic, language, region, mode) masks."""


def course_masks(session: Session, courses: Sequence[Course]) -> dict[str, CourseMasks] | None:
    """Course id → its masks, or None when one asks for a key that has no bit.

    Participants with masks not worked out yet (NULL) get them first
    (`interest_masks.refresh_stale`), so that every key a participant holds is
    numbered: a key a course asks for and `interest_keys` lacks is held by nobody."""
    refresh_stale(session)
    bits = known_keys(session)
    terms: dict[str, list[tuple[str, str]]] = {c.id: [] for c in courses}
    for cid, kind, value in session.execute(
            select(CourseTerm.course_id, CourseTerm.kind, CourseTerm.value)
            .where(CourseTerm.course_id.in_(list(terms)))):
        if kind in ("topic", "language"):
            terms[cid].append((kind, value))
    out: dict[str, CourseMasks] = {}
    for c in courses:
        asked = [*terms[c.id], ("region", (c.region or "").lower()), ("mode", c.mode)]
        if any(bits.get(key, 0) >= KEY_BITS for key in asked):
            return None
        mask = {"topic": ONLY_ANY, "language": 0, "region": ONLY_ANY, "mode": ONLY_ANY}
        for key in asked:
            if key in bits:
                mask[key[0]] |= mask_of(bits[key])
        if c.mode in ONLINE_MODES:
            mask["region"] = ANY
        out[c.id] = (mask["topic"], mask["language"], mask["region"], mask["mode"])
    return out


def stored_audience(today: date, courses: Sequence[Course], masks: dict[str, CourseMasks],
                    due_at: dict[str, datetime], key_prefix: dict[str, str],
                    extra: Iterable[ColumnElement[bool]] = ()) -> Select[Any]:
    """SELECT (course_id, participant_id, due_at, key_prefix) for every matching pair of
    `courses` (`masks` from `course_masks`; `due_at` and the dedup keys' prefixes per
    course carried along). Courses cancelled or past their registration deadline (as
    loaded) are left out, as `matching.course_is_open` leaves them."""
    open_now = [c for c in courses if c.status == "open" and c.registration_deadline >= today]
    if not open_now:
        raise ValueError("stored_audience needs at least one open course")
    batch = values(
        column("course_id", String), column("topics", BigInteger), column("langs", BigInteger),
        column("region", BigInteger), column("mode", BigInteger),
        column("due_at", Delivery.due_at.type), column("key_prefix", String),
        name="stored_courses").data(
        [(c.id, *masks[c.id], due_at[c.id], key_prefix[c.id]) for c in open_now]
    ).cte("stored_courses")  # SQLite names a VALUES list's columns only in a WITH clause
    p, b = Participant, batch.c
    zero = 0

    def meets(held: Any, asked: Any) -> Any:
        return held.bitwise_and(asked) != zero

    def union(kind: int) -> Any:
        out = 0
        for c in open_now:
            out |= masks[c.id][kind]
        return literal(out, BigInteger)

    # Who meets no course at all (about half) is dropped before the pairing with each.
    meets_one = [meets(p.topic_bits, union(0)), meets(p.language_bits, union(1)),
                 meets(p.region_bits, union(2)), meets(p.mode_bits, union(3))]
    return (select(b.course_id, p.id.label("participant_id"), b.due_at, b.key_prefix)
            .select_from(p)
            .join(batch, meets(p.topic_bits, b.topics) & meets(p.language_bits, b.langs)
                  & meets(p.region_bits, b.region) & meets(p.mode_bits, b.mode))
            .where(participant_is_reachable(), *meets_one, *extra)
            .add_cte(batch, nest_here=True))
