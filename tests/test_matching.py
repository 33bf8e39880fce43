"""The SQL matching predicate agrees with a brute-force reference of DESIGN.md's rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, true
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from scheduler.db import ensure_schema, make_engine, session_factory
from scheduler.matching import ONLINE_MODES, audience, match_condition, normalise
from scheduler.models import (
    Course,
    CourseTerm,
    Participant,
    ParticipantInterest,
    Suppression,
)

TODAY = date(2027, 1, 10)
NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)
TOPICS = ["Spectrum management", "cybersecurity", " Policy and regulation ", "AI"]
REGIONS = ["Africa", "Americas", "Arab States", "Asia-Pacific", "CIS", "Europe"]
MODES = ["online_instructor", "online_self_paced", "face_to_face", "blended"]
LANGS = ["en", "fr", "es", "ar"]


@dataclass
class P:
    status: str
    suppressed: bool
    language: str
    topics: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)


@dataclass
class C:
    status: str
    deadline_offset: int
    region: str
    mode: str
    topics: list[str]
    languages: list[str]


def case_variants(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).flatmap(
        lambda v: st.sampled_from([v, v.upper(), v.lower(), f"  {v} "])
    )


participants = st.builds(
    P,
    status=st.sampled_from(["active", "active", "active", "pending", "unsubscribed"]),
    suppressed=st.booleans(),
    language=st.sampled_from(LANGS),
    topics=st.lists(case_variants(TOPICS), max_size=3),
    regions=st.lists(case_variants(REGIONS), max_size=2),
    languages=st.lists(st.sampled_from(LANGS), max_size=2),
    modes=st.lists(st.sampled_from(MODES), max_size=2),
)
courses = st.builds(
    C,
    status=st.sampled_from(["open", "open", "open", "cancelled"]),
    deadline_offset=st.integers(-3, 30),
    region=st.sampled_from(REGIONS),
    mode=st.sampled_from(MODES),
    topics=st.lists(case_variants(TOPICS), min_size=1, max_size=3),
    languages=st.lists(st.sampled_from(LANGS), min_size=1, max_size=2),
)


def reference_match(p: P, c: C) -> bool:
    """DESIGN.md "Matching", written as plainly as possible."""
    norm = lambda xs: {normalise(x) for x in xs}  # noqa: E731
    if p.status != "active" or p.suppressed:
        return False
    if c.status == "cancelled" or TODAY + timedelta(days=c.deadline_offset) < TODAY:
        return False
    if p.topics and not norm(p.topics) & norm(c.topics):
        return False
    wanted = norm(p.languages) if p.languages else {p.language}
    if not wanted & norm(c.languages):
        return False
    if p.regions and c.mode not in ONLINE_MODES and normalise(c.region) not in norm(p.regions):
        return False
    return not (p.modes and c.mode not in norm(p.modes))


engine = make_engine("sqlite:///:memory:")
ensure_schema(engine)
Session = session_factory(engine)


def load(ps: list[P], cs: list[C], sessions: sessionmaker[OrmSession] = Session) -> None:
    """Replace every participant and course with these (tests/postgres reuses it)."""
    with sessions() as s, s.begin():
        for t in (ParticipantInterest, CourseTerm, Participant, Course, Suppression):
            s.execute(delete(t))
        for i, c in enumerate(cs):
            cid = f"C{i}"
            s.add(Course(id=cid, title="t", coe="x", region=c.region, mode=c.mode,
                         topics=c.topics, languages=c.languages, status=c.status,
                         start_date=TODAY + timedelta(days=40),
                         end_date=TODAY + timedelta(days=45),
                         registration_deadline=TODAY + timedelta(days=c.deadline_offset),
                         url="https://example.org", content_hash="h", first_seen_at=NOW,
                         updated_at=NOW))
            terms = {("topic", normalise(t)) for t in c.topics}
            terms |= {("language", normalise(lg)) for lg in c.languages}
            for kind, value in terms:
                s.add(CourseTerm(course_id=cid, kind=kind, value=value))
        s.flush()
        for i, p in enumerate(ps):
            email = f"p{i}@example.org"
            s.execute(insert(Participant).values(
                id=i + 1, email=email, language=p.language, status=p.status,
                any_topic=not p.topics, any_region=not p.regions, any_mode=not p.modes,
                any_language=not p.languages, created_at=NOW, updated_at=NOW))
            keys = {("topic", normalise(x)) for x in p.topics}
            keys |= {("region", normalise(x)) for x in p.regions}
            keys |= {("language", normalise(x)) for x in p.languages}
            keys |= {("mode", normalise(x)) for x in p.modes}
            for kind, value in keys:
                s.add(ParticipantInterest(participant_id=i + 1, kind=kind, value=value))
            if p.suppressed:
                s.add(Suppression(email=email, reason="bounce", created_at=NOW))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=5))
def test_sql_matching_equals_reference(ps: list[P], cs: list[C]) -> None:
    check_against_reference(ps, cs, Session)


def check_against_reference(ps: list[P], cs: list[C], sessions: sessionmaker[OrmSession]) -> None:
    load(ps, cs, sessions)
    with sessions() as s:
        got = set(s.execute(audience(TODAY)).all())
        # The planner's form for one course at a time (uncorrelated subqueries).
        per_course: set[tuple[str, int]] = set()
        for course in s.scalars(select(Course)):
            per_course |= set(s.execute(
                select(Course.id, Participant.id).select_from(Course)
                .join(Participant, true())
                .where(Course.id == course.id, match_condition(TODAY, course))).all())
    expected = {(f"C{ci}", pi + 1) for pi, p in enumerate(ps) for ci, c in enumerate(cs)
                if reference_match(p, c)}
    assert got == expected
    assert per_course == expected


def test_online_course_reaches_every_region() -> None:
    p = P(status="active", suppressed=False, language="en", regions=["Europe"])
    online = C("open", 5, "Africa", "online_self_paced", ["AI"], ["en"])
    onsite = C("open", 5, "Africa", "face_to_face", ["AI"], ["en"])
    load([p], [online, onsite])
    with Session() as s:
        assert set(s.execute(audience(TODAY)).all()) == {("C0", 1)}


def test_topics_compare_case_insensitively_after_trimming() -> None:
    p = P(status="active", suppressed=False, language="fr", topics=["spectrum MANAGEMENT "])
    c = C("open", 5, "Europe", "blended", ["Spectrum management"], ["fr", "en"])
    load([p], [c])
    with Session() as s:
        assert set(s.execute(audience(TODAY)).all()) == {("C0", 1)}
