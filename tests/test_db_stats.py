"""Herald gathers planner statistics itself after a bulk write (scheduler/db_stats.py)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, text

from scheduler import db_stats
from tests.conftest import Project

COPIES = 15
"""Demo participants × copies (with new emails): 3,600 people, some 6,000+ deliveries."""


def many_participants(project: Project) -> Path:
    """The demo's participants, each copied COPIES times under a new email."""
    with (project.root / "demo" / "participants.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = project.root / "many.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for copy in range(COPIES):
            for row in rows:
                local, domain = row["email"].split("@")
                writer.writerow({**row, "email": f"{local}+{copy}@{domain}"})
    return out


def stats_rows(engine: Engine, table: str) -> int:
    with engine.connect() as c:
        if not c.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            return 0
        return int(c.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = :t"),
                             {"t": table}).scalar_one())


def claim_plan(engine: Engine) -> str:
    """SQLite's plan for the dispatcher's claim of due email rows."""
    with engine.connect() as c:
        rows = c.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE channel = 'email'"
            " AND state IN ('pending', 'retrying') AND due_at <= '2030-01-01'"
            " AND (lease_expires_at IS NULL OR lease_expires_at < '2030-01-01')"
            " AND (kind != 'course_email' OR bundle = id) ORDER BY due_at, id LIMIT 100"))
        return " | ".join(str(r[-1]) for r in rows)


def test_fresh_database_is_analyzed_by_import_and_plan(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    engine = project.engine()
    assert stats_rows(engine, "participants") == 0  # a fresh database: no statistics
    r = project.run("participants", "import", str(many_participants(project)), now=week_before)
    assert r.code == 0, r.err
    assert stats_rows(engine, "participants") > 0
    assert stats_rows(engine, "participant_interests") > 0
    assert stats_rows(engine, "deliveries") == 0
    r = project.run("plan", "--json")
    assert r.code == 0, r.err
    with engine.connect() as c:
        pending = c.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
    assert pending > db_stats.MIN_ROWS
    assert stats_rows(engine, "deliveries") > 0
    with engine.connect() as c:
        # Cadence fills `bundle` after planning: its all-NULL statistic is not kept.
        assert c.execute(text("SELECT count(*) FROM sqlite_stat1"
                              " WHERE idx = 'ix_deliveries_bundle'")).scalar_one() == 0
        members = " | ".join(str(r[-1]) for r in c.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE bundle IN (1, 2, 3)"
            " AND id NOT IN (1, 2, 3)")))
    assert "ix_deliveries_bundle" in members and "SCAN" not in members, members
    plan = claim_plan(engine)
    assert "USING INDEX" in plan and "SCAN deliveries" not in plan.replace(
        "SCAN deliveries USING", ""), plan
    engine.dispose()


def test_statistics_refresh_only_when_stale(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    engine = project.engine()
    # Nothing much written: no ANALYZE (a never-analyzed table is counted: a few rows).
    assert db_stats.after_planning(engine, 10) == []
    assert stats_rows(engine, "deliveries") == 0
    assert db_stats.stale(written=1_000, analyzed=0)
    assert not db_stats.stale(written=999, analyzed=0)
    assert db_stats.stale(written=30_000, analyzed=100_000)
    assert not db_stats.stale(written=10_000, analyzed=100_000)
    engine.dispose()
