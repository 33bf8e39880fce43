"""Concurrent planners on one PostgreSQL database: every dedup key exactly once."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select

from scheduler.app import App
from scheduler.models import Delivery, PlanMark
from scheduler.planner import PlanReport
from tests.conftest import DEMO_NOW, Project
from tests.postgres.conftest import fresh_database

WEEK_BEFORE = "2027-01-04T09:00:00Z"


def import_demo(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv", now=WEEK_BEFORE).code == 0
    r = project.run("participants", "import", "demo/participants.csv", now=WEEK_BEFORE)
    assert r.code == 0, r.err


def plan_together(config: Path, url: str, now: datetime, n: int) -> list[PlanReport]:
    """Run `n` planners (own App, engine, connections) released at the same instant."""
    apps = [App(config, url, now) for _ in range(n)]
    for app in apps:
        app.planner()  # load config and schema before the race, not during it
    start = threading.Barrier(n)
    reports: list[PlanReport | BaseException] = [RuntimeError("did not run")] * n

    def work(i: int) -> None:
        start.wait()
        try:
            reports[i] = apps[i].planner().plan(now)
        except BaseException as exc:
            reports[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for app in apps:
        app.close()
    errors = [r for r in reports if isinstance(r, BaseException)]
    assert errors == []
    return [r for r in reports if isinstance(r, PlanReport)]


def keys(url: str) -> list[str]:
    app = App(Path("config"), url)
    with app.sessions() as s:
        found = list(s.scalars(select(Delivery.dedup_key)))
    app.close()
    return found


def test_concurrent_planners_insert_each_key_once(project: Project, pg_server_url: str) -> None:
    import_demo(project)
    now = datetime.fromisoformat(DEMO_NOW)
    reports = plan_together(project.config, project.db_url, now, 4)
    planned = keys(project.db_url)
    assert len(planned) == len(set(planned)) > 200
    # Every row was reported by exactly one planner: no double count, nothing lost.
    assert sum(r.total for r in reports) == len(planned)
    # ... and they planned exactly what one planner alone plans.
    with fresh_database(pg_server_url) as alone_url:
        project.run("--db", alone_url, "courses", "import", "demo/courses.csv", now=WEEK_BEFORE)
        project.run("--db", alone_url, "participants", "import", "demo/participants.csv",
                    now=WEEK_BEFORE)
        assert project.run("--db", alone_url, "plan", now=DEMO_NOW).code == 0
        assert sorted(keys(alone_url)) == sorted(planned)
    # Planning again, concurrently, finds nothing new.
    again = plan_together(project.config, project.db_url, now, 3)
    assert sum(r.total for r in again) == 0
    assert len(keys(project.db_url)) == len(planned)


def test_concurrent_planners_with_nothing_to_send_agree_on_the_marks(project: Project) -> None:
    # No participants: the planners race on the plan marks with (but for a few social
    # posts) no delivery row to queue them one behind the other.
    assert project.run("courses", "import", "demo/courses.csv", now=WEEK_BEFORE).code == 0
    app = App(project.config, project.db_url)
    total = 0
    for _ in range(5):
        with app.sessions() as s, s.begin():
            s.execute(delete(PlanMark))
        reports = plan_together(project.config, project.db_url,
                                datetime.fromisoformat(DEMO_NOW), 4)
        total += sum(r.total for r in reports)
        with app.sessions() as s:
            assert (s.scalar(select(func.count()).select_from(PlanMark)) or 0) > 10
    posts = keys(project.db_url)
    assert all(":p" not in k for k in posts)
    assert total == len(posts) == len(set(posts))
    app.close()
