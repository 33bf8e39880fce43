"""On PostgreSQL, Herald analyzes the tables an import and a planning pass grew."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.conftest import Project
from tests.test_db_stats import many_participants


def analyzed(engine: Engine, table: str) -> bool:
    with engine.connect() as c:
        return bool(c.execute(text(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = :t"),
            {"t": table}).scalar())


def test_import_and_plan_analyze_what_they_grew(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    engine = project.engine()
    assert not analyzed(engine, "participants")
    r = project.run("participants", "import", str(many_participants(project)), now=week_before)
    assert r.code == 0, r.err
    assert analyzed(engine, "participants") and analyzed(engine, "participant_interests")
    assert not analyzed(engine, "deliveries")
    assert project.run("plan").code == 0
    assert analyzed(engine, "deliveries")
    engine.dispose()
