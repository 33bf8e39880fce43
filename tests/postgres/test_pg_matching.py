"""The SQL matching predicate agrees with the brute-force reference on PostgreSQL too."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from tests.test_matching import C, P, check_against_reference, courses, participants


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=5))
def test_sql_matching_equals_reference_on_postgres(
    pg_sessions: sessionmaker[Session], ps: list[P], cs: list[C]
) -> None:
    check_against_reference(ps, cs, pg_sessions)


def test_online_course_reaches_every_region_on_postgres(
    pg_sessions: sessionmaker[Session],
) -> None:
    p = P(status="active", suppressed=False, language="en", regions=["Europe"])
    online = C("open", 5, "Africa", "online_self_paced", ["AI"], ["en"])
    onsite = C("open", 5, "Africa", "face_to_face", ["AI"], ["en"])
    p2 = P(status="active", suppressed=False, language="fr", topics=["spectrum MANAGEMENT "])
    spectrum = C("open", 5, "Europe", "blended", ["Spectrum management"], ["fr", "en"])
    check_against_reference([p, p2], [online, onsite, spectrum], pg_sessions)
