"""Matching on the participants' stored interest masks (`scheduler.matching_stored`)
agrees with the reference of DESIGN.md's rules and with the interests' own form; the
masks every writer stores are the ones worked out from the interests."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from scheduler import privacy, subscriptions
from scheduler.matching import audience
from scheduler.matching_stored import course_masks, stored_audience
from scheduler.models import Course, InterestKey, Participant
from scheduler.participants import ParticipantRecord, import_participants
from scheduler.participants.interest_masks import COLUMNS, refresh_stale
from tests.test_matching import (
    LANGS,
    MODES,
    REGIONS,
    TODAY,
    TOPICS,
    C,
    P,
    Session,
    courses,
    load,
    participants,
    reference_match,
)

DUE = datetime(2027, 1, 10, 9, tzinfo=UTC)
NOW = datetime(2027, 1, 10, 8, tzinfo=UTC)


def stored_pairs(sessions: sessionmaker[OrmSession]) -> set[tuple[str, int]] | None:
    """Every (course, participant) pair `stored_audience` matches; None without masks."""
    with sessions() as s, s.begin():
        stored = list(s.scalars(select(Course).order_by(Course.id)))
        masks = course_masks(s, stored)
        if masks is None:
            return None
        if not any(c.status == "open" and c.registration_deadline >= TODAY for c in stored):
            return set()
        rows = s.execute(stored_audience(TODAY, stored, masks, {c.id: DUE for c in stored},
                                         {c.id: f"a:{c.id}:p" for c in stored})).all()
    assert all(due == DUE and prefix == f"a:{cid}:p" for cid, _, due, prefix in rows)
    return {(cid, pid) for cid, pid, _, _ in rows}


def check(ps: list[P], cs: list[C], sessions: sessionmaker[OrmSession] = Session) -> None:
    load(ps, cs, sessions)
    got = stored_pairs(sessions)
    with sessions() as s:
        old = set(s.execute(audience(TODAY)).all())  # the interests' form
    expected = {(f"C{ci}", pi + 1) for pi, p in enumerate(ps) for ci, c in enumerate(cs)
                if reference_match(p, c)}
    assert got == expected
    assert old == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=8))
def test_stored_masks_match_as_the_reference_and_the_old_form(ps: list[P], cs: list[C]) -> None:
    check(ps, cs)


def random_population(seed: int, n: int) -> tuple[list[P], list[C]]:
    rnd = random.Random(seed)

    def some(values: list[str], most: int) -> list[str]:
        return rnd.sample(values, rnd.randint(0, most))

    ps = [P(status=rnd.choice(["active", "active", "active", "pending"]),
            suppressed=rnd.random() < 0.05, language=rnd.choice(LANGS),
            topics=some(TOPICS, 3), regions=some(REGIONS, 2), languages=some(LANGS, 2),
            modes=some(MODES, 2)) for _ in range(n)]
    cs = [C(rnd.choice(["open", "open", "cancelled"]), rnd.randint(-2, 20),
            rnd.choice(REGIONS), rnd.choice(MODES), rnd.sample(TOPICS, rnd.randint(1, 3)),
            rnd.sample(LANGS, rnd.randint(1, 2))) for _ in range(20)]
    return ps, cs


def test_a_random_population_matches_as_before() -> None:
    ps, cs = random_population(11, 400)
    check(ps, cs)


def test_a_course_asking_for_a_key_without_a_bit_is_left_to_the_interests() -> None:
    with Session() as s, s.begin():
        s.execute(delete(InterestKey))
        s.execute(insert(InterestKey), [{"kind": "topic", "value": f"filler {i}", "bit": i}
                                        for i in range(63)])
    load([P(status="active", suppressed=False, language="en", topics=["AI"])],
         [C("open", 5, "Europe", "blended", ["AI"], ["en"])])
    assert stored_pairs(Session) is None  # "ai" was numbered 63: no bit
    with Session() as s, s.begin():
        assert s.scalar(select(InterestKey.bit).where(InterestKey.value == "ai")) == 63
        s.execute(delete(InterestKey))


def masks(s: OrmSession) -> dict[int, tuple[int | None, ...]]:
    cols = [getattr(Participant, c) for c in COLUMNS.values()]
    return {pid: tuple(rest) for pid, *rest in s.execute(select(Participant.id, *cols))}


def worked_out_again(s: OrmSession) -> dict[int, tuple[int | None, ...]]:
    s.execute(update(Participant).values(topic_bits=None, language_bits=None,
                                         region_bits=None, mode_bits=None))
    refresh_stale(s)
    return masks(s)


def record(email: str, rnd: random.Random) -> ParticipantRecord:
    def some(values: list[str], most: int) -> tuple[str, ...]:
        return tuple(v.strip().lower() for v in rnd.sample(values, rnd.randint(0, most)))

    return ParticipantRecord(
        email=email, name="N", language=rnd.choice(LANGS), country="", timezone="UTC",
        frequency="immediate", consent=TODAY, topics=some(TOPICS, 3), regions=some(REGIONS, 2),
        languages=some(LANGS, 2), modes=some(MODES, 2))


def test_every_writer_stores_the_masks_the_interests_give() -> None:
    load([], [])
    rnd = random.Random(5)
    with Session() as s, s.begin():
        import_participants(s, [record(f"r{i}@example.org", rnd) for i in range(60)], now=NOW)
        # A second import changes some profiles (the update path).
        import_participants(s, [record(f"r{i}@example.org", rnd) for i in range(0, 60, 2)],
                            now=NOW)
        subscriptions.sign_up(s, "web@example.org", subscriptions.Profile(
            name="W", language="fr", topics=("AI",), modes=("blended",)), now=NOW)
        s.flush()
        privacy.erase(s, "r1@example.org", now=NOW)
        s.flush()
        written = masks(s)
        assert all(None not in m for m in written.values())
        assert written == worked_out_again(s)
