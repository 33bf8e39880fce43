"""One course that cannot be planned (a date the calendar arithmetic overflows on, written
before the import checks existed) is reported and skipped; every other course plans."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from scheduler.models import Course, Delivery
from tests.conftest import Project


def poison(project: Project, course_id: str) -> None:
    engine = project.engine()
    with engine.begin() as c:
        c.execute(update(Course).where(Course.id == course_id).values(
            registration_deadline=date(9999, 12, 31), start_date=date(9999, 12, 31),
            end_date=date(9999, 12, 31)))
    engine.dispose()


def planned_courses(project: Project) -> set[str]:
    engine = project.engine()
    with engine.connect() as c:
        ids = set(c.execute(select(Delivery.course_id).where(Delivery.course_id.is_not(None))
                            .group_by(Delivery.course_id)).scalars())
    engine.dispose()
    return {str(i) for i in ids}


def course_ids(project: Project) -> list[str]:
    engine = project.engine()
    with engine.connect() as c:
        ids = list(c.execute(select(Course.id).order_by(Course.id)).scalars())
        assert c.execute(select(func.count()).select_from(Delivery)).scalar() == 0
    engine.dispose()
    return ids


@pytest.mark.parametrize("command", [("plan",), ("send-now",)])
def test_a_course_that_fails_is_skipped_and_reported_others_plan(
        project: Project, command: tuple[str, ...]) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    participants = project.root / "demo" / "participants.csv"
    assert project.run("participants", "import", str(participants)).code == 0
    # Clean run on a twin project state: which courses plan at all.
    ids = course_ids(project)
    bad = ids[0]
    poison(project, bad)
    r = project.run("-v", *command)
    assert r.code == 0, r.err
    assert f"course {bad} skipped, it cannot be planned (OverflowError" in r.err
    planned = planned_courses(project)
    assert bad not in planned
    assert len(planned) >= 5  # everything else planned

    status = project.run("status", "--json")
    assert status.code == 0, status.err
    skipped = status.json()["unplannable_courses"]  # type: ignore[index]
    assert {row["course"] for row in skipped} == {bad}
    assert all("OverflowError" in row["reason"] for row in skipped)
    text = project.run("status")
    assert "Courses skipped by planning" in text.out and bad in text.out

    # Fixed (here: cancelled), it is no longer reported.
    engine = project.engine()
    with engine.begin() as c:
        c.execute(update(Course).where(Course.id == bad).values(status="cancelled"))
    engine.dispose()
    assert project.run("status", "--json").json()["unplannable_courses"] == []  # type: ignore[index]


def test_the_daemon_counts_the_skipped_course_and_plans_the_rest(project: Project) -> None:
    from tests.daemon.conftest import Daemon, wait_for

    assert project.run("courses", "import", "demo/courses.csv").code == 0
    participants = project.root / "demo" / "participants.csv"
    assert project.run("participants", "import", str(participants)).code == 0
    bad = course_ids(project)[0]
    poison(project, bad)
    daemon = Daemon(project).start()
    try:
        wait_for(lambda: daemon.metric("herald_plan_skipped_courses") >= 1, 20,
                 "the planner to report the skipped course")
        assert len(planned_courses(project)) >= 5
        assert "job plan failed" not in daemon.log
        assert f"course {bad} skipped" in daemon.log
        assert daemon.health()[0] == 200  # one bad course does not fail the plan job
        assert daemon.stop() == 0
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
