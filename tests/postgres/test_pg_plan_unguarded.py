"""A course's first planning on PostgreSQL: plain INSERT under the scope lock, and its guard.

The planner skips ON CONFLICT only for a (campaign, course) it holds locked and finds
unplanned; these tests hold it to planning exactly what the guarded way plans, and to
falling back to ON CONFLICT DO NOTHING when a row was written outside the lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from scheduler.app import App
from scheduler.models import Delivery, PlanMark
from tests.conftest import DEMO_NOW, Project
from tests.postgres.conftest import fresh_database

WEEK_BEFORE = "2027-01-04T09:00:00Z"
NOW = datetime.fromisoformat(DEMO_NOW)


def import_demo(project: Project, url: str | None = None) -> None:
    db = ("--db", url) if url else ()
    assert project.run(*db, "courses", "import", "demo/courses.csv", now=WEEK_BEFORE).code == 0
    r = project.run(*db, "participants", "import", "demo/participants.csv", now=WEEK_BEFORE)
    assert r.code == 0, r.err


def plan(project: Project, url: str) -> tuple[int, list[str]]:
    """Plan once at NOW: (rows reported, INSERT INTO deliveries statements sent)."""
    app = App(project.config, url, NOW)
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if "INSERT INTO deliveries" in statement:
            sent.append(statement)

    event.listen(app.engine, "before_cursor_execute", record)
    try:
        total = app.planner().plan(NOW).total
    finally:
        app.close()
    return total, sent


def course_email_inserts(sent: list[str]) -> list[str]:
    """The statements that planned course emails (a participant's row and a course)."""
    return [s for s in sent
            if "course_id" in s.split("INSERT INTO deliveries", 1)[1].split(")", 1)[0]
            and "participants" in s]


def course_email_keys(url: str, project: Project) -> set[str]:
    app = App(project.config, url)
    with app.sessions() as s:
        found = set(s.scalars(select(Delivery.dedup_key).where(Delivery.kind == "course_email")))
    app.close()
    return found


def guarded_reference(project: Project, pg_server_url: str) -> tuple[set[str], int]:
    """What a planner that only ever uses ON CONFLICT DO NOTHING plans from the demo:
    (course email keys, rows reported)."""
    with fresh_database(pg_server_url) as url:
        import_demo(project, url)
        app = App(project.config, url, NOW)
        total = app.planner()._plan(NOW, _no_filter(), False, unguarded=False).total
        app.close()
        return course_email_keys(url, project), total


def _no_filter() -> Any:
    from scheduler.filter import Filter

    return Filter()


def test_first_planning_inserts_plainly_and_plans_what_the_guarded_way_does(
    project: Project, pg_server_url: str
) -> None:
    import_demo(project)
    _, sent = plan(project, project.db_url)
    planned = course_email_keys(project.db_url, project)
    assert planned == guarded_reference(project, pg_server_url)[0]
    assert len(planned) > 100
    course_inserts = course_email_inserts(sent)
    assert course_inserts and not any("ON CONFLICT" in s for s in course_inserts)
    # Planned now: the next pass is incremental and guarded, and finds nothing new.
    again, sent = plan(project, project.db_url)
    assert again == 0
    assert all("ON CONFLICT" in s for s in sent)


def test_a_row_written_outside_the_lock_sends_the_pass_back_to_on_conflict(
    project: Project, pg_server_url: str
) -> None:
    import_demo(project)
    reference, reference_total = guarded_reference(project, pg_server_url)
    taken = sorted(reference)[0]
    # A row of that key whose columns do not name its course, and no plan mark: the
    # scope looks unplanned under the lock, so only the unique index can catch it.
    app = App(project.config, project.db_url, NOW)
    with app.sessions() as s, s.begin():
        s.execute(insert(Delivery).values(
            dedup_key=taken, campaign="elsewhere", kind="course_email", channel="email",
            template="email/announcement", state="pending", due_at=NOW, attempts=0,
            created_at=NOW, updated_at=NOW))
    app.close()
    total, sent = plan(project, project.db_url)
    course_inserts = course_email_inserts(sent)
    # A plain INSERT met the row (and rolled back), then every course was planned anew
    # with ON CONFLICT DO NOTHING.
    assert "ON CONFLICT" not in course_inserts[0]
    first_guarded = next(i for i, s in enumerate(course_inserts) if "ON CONFLICT" in s)
    assert all("ON CONFLICT" in s for s in course_inserts[first_guarded:])
    planned = course_email_keys(project.db_url, project)
    assert planned == reference
    assert total == reference_total - 1  # the row already there is not reported again
    app = App(project.config, project.db_url)
    with app.sessions() as s:
        assert s.scalar(select(PlanMark.planned_at).limit(1)) is not None
    app.close()


def test_new_courses_beyond_one_batch_are_planned_in_several(
    project: Project, pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scheduler.planning.course_emails.BATCH_COURSES", 2)
    import_demo(project)
    _, sent = plan(project, project.db_url)
    assert len(course_email_inserts(sent)) > 2
    assert course_email_keys(project.db_url, project) == guarded_reference(
        project, pg_server_url)[0]
