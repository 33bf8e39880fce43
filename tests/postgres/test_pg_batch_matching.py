"""`batch_audience` (many courses, one statement, masks) agrees with the reference."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.matching import BATCH_COURSES, batch_audience
from scheduler.models import Course
from tests.test_matching import (
    TODAY,
    C,
    P,
    courses,
    load,
    participants,
    reference_match,
)


def check(ps: list[P], cs: list[C], sessions: sessionmaker[Session]) -> None:
    load(ps, cs, sessions)
    with sessions() as s:
        stored = list(s.scalars(select(Course).order_by(Course.id)))
        got = set(s.execute(batch_audience(TODAY, stored)).all())
    expected = {(f"C{ci}", pi + 1) for pi, p in enumerate(ps) for ci, c in enumerate(cs)
                if reference_match(p, c)}
    assert got == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=8))
def test_batch_matching_equals_reference(
    pg_sessions: sessionmaker[Session], ps: list[P], cs: list[C]
) -> None:
    check(ps, cs, pg_sessions)


def test_a_full_batch_uses_every_bit(pg_sessions: sessionmaker[Session]) -> None:
    # The last course holds the highest bit: a mask of BATCH_COURSES bits still matches.
    ps = [P(status="active", suppressed=False, language="en"),
          P(status="active", suppressed=False, language="fr", topics=["AI"], regions=["CIS"],
            languages=["fr"], modes=["blended"])]
    cs = [C("open", 5, "Europe", "face_to_face", ["cybersecurity"], ["en"])
          for _ in range(BATCH_COURSES - 1)]
    cs.append(C("open", 5, "CIS", "blended", ["AI"], ["fr", "en"]))
    check(ps, cs, pg_sessions)


def test_more_courses_than_bits_are_refused(pg_sessions: sessionmaker[Session]) -> None:
    load([], [C("open", 5, "Europe", "blended", ["AI"], ["en"])] * (BATCH_COURSES + 1),
         pg_sessions)
    with pg_sessions() as s:
        stored = list(s.scalars(select(Course)))
        with pytest.raises(ValueError):
            batch_audience(TODAY, stored)
