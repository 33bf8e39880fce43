"""PostgreSQL: matching on stored interest masks agrees with the reference and with the
interests' form (`batch_audience`), and the planner writes exactly the same rows by
either."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.app import App
from scheduler.matching import batch_audience
from scheduler.models import Course, Delivery
from scheduler.planning import course_emails
from tests.conftest import Project
from tests.postgres.conftest import fresh_database
from tests.postgres.test_pg_plan_unguarded import NOW, import_demo
from tests.test_matching import TODAY, C, P, courses, participants
from tests.test_matching_stored import check, random_population, stored_pairs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(participants, min_size=1, max_size=12), st.lists(courses, min_size=1, max_size=8))
def test_stored_masks_match_as_the_reference(
    pg_sessions: sessionmaker[Session], ps: list[P], cs: list[C]
) -> None:
    check(ps, cs, pg_sessions)


def test_a_random_population_matches_as_batch_audience(
    pg_sessions: sessionmaker[Session],
) -> None:
    ps, cs = random_population(23, 500)
    check(ps, cs, pg_sessions)
    with pg_sessions() as s:
        stored = list(s.scalars(select(Course).order_by(Course.id)))
        old = set(s.execute(batch_audience(TODAY, stored)).all())
    assert len(old) > 100
    assert stored_pairs(pg_sessions) == old


def planned_rows(project: Project, url: str) -> list[tuple[Any, ...]]:
    import_demo(project, url)
    app = App(project.config, url, NOW)
    try:
        assert app.planner().plan(NOW).total > 0
        with app.sessions() as s:
            # due_at is the course's first_seen_at, which the import takes from the clock.
            cols = [c for c in Delivery.__table__.columns if c.name not in ("id", "due_at")]
            rows = s.execute(select(*cols, Delivery.due_at == Course.first_seen_at)
                             .join(Course, Course.id == Delivery.course_id)).all()
            return sorted(tuple(r) for r in rows)
    finally:
        app.close()


def test_the_planner_writes_the_same_rows_from_masks_as_from_interests(
    project: Project, pg_server_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fresh_database(pg_server_url) as url:
        from_masks = planned_rows(project, url)
    monkeypatch.setattr(course_emails, "course_masks", lambda *_args: None)
    with fresh_database(pg_server_url) as url:
        from_interests = planned_rows(project, url)
    assert len(from_masks) > 100
    assert from_masks == from_interests
