"""`mask_audience` (SQLite: several courses, one statement, key masks) agrees with the
reference of DESIGN.md's rules, and `batches` keeps every kind within 62 bits."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scheduler.matching_masks import MAX_KEYS, batches, course_keys, mask_audience
from scheduler.models import Course
from tests.test_matching import TODAY, C, P, Session, courses, load, participants, reference_match

DUE = datetime(2027, 1, 10, 9, tzinfo=UTC)


def check(ps: list[P], cs: list[C]) -> None:
    load(ps, cs)
    with Session() as s:
        stored = list(s.scalars(select(Course).order_by(Course.id)))
        keys = course_keys(s, stored)
        groups, alone = batches(stored, keys)
        assert not alone
        got: set[tuple[str, int]] = set()
        for group in groups:
            if any(c.status == "open" and c.registration_deadline >= TODAY for c in group):
                rows = s.execute(mask_audience(TODAY, group, keys,
                                               {c.id: DUE for c in group})).all()
                got |= {(cid, pid) for cid, pid, _ in rows}
    expected = {(f"C{ci}", pi + 1) for pi, p in enumerate(ps) for ci, c in enumerate(cs)
                if reference_match(p, c)}
    assert got == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=8))
def test_mask_matching_equals_reference(ps: list[P], cs: list[C]) -> None:
    check(ps, cs)


def test_the_highest_bit_of_a_kind_still_matches() -> None:
    # 62 topics among the courses: the last course's topic holds bit 61.
    ps = [P(status="active", suppressed=False, language="en", topics=["t61"]),
          P(status="active", suppressed=False, language="en", topics=["t0"])]
    cs = [C("open", 5, "Europe", "blended", [f"t{i}"], ["en"]) for i in range(MAX_KEYS)]
    check(ps, cs)


def test_batches_split_where_a_kind_runs_out_of_bits() -> None:
    load([], [C("open", 5, "Europe", "blended", [f"t{i}", f"u{i}"], ["en"])
              for i in range(40)]
         + [C("open", 5, "Europe", "blended", [f"v{i}" for i in range(MAX_KEYS + 1)], ["en"])])
    with Session() as s:
        stored = list(s.scalars(select(Course).order_by(Course.id)))
        keys = course_keys(s, stored)
        groups, alone = batches(stored, keys)
    assert [c.id for c in alone] == ["C40"]  # 63 topics: planned course by course
    assert [len(g) for g in groups] == [31, 9]  # 2 topics each: 31 courses fill 62 bits
    for group in groups:
        assert len(set().union(*(keys[c.id]["topic"] for c in group))) <= MAX_KEYS
