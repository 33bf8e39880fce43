"""`herald plan`'s outbox summary, worked out from the pass's counts
(`scheduler.planning.summary`), is the summary a GROUP BY over the outbox gives after
the pass: on a first plan, on a later one with rows in other states and earlier due
times, and on a pass that plans nothing. tests/postgres runs the same on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from scheduler.app import App
from scheduler.models import Delivery
from tests.conftest import DEMO_NOW, Project

NOW = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00"))


def scanned(project: Project, now: datetime) -> list[dict[str, Any]]:
    """The summary as `queries.queue` reads it from the whole outbox, in group order."""
    from scheduler import queries

    app = App(project.config, project.db_url, now)
    try:
        rows = queries.queue(app, now)
    finally:
        app.close()
    return sorted(rows, key=lambda r: (r["campaign"], r["channel"], r["state"]))


def planned_summary(project: Project, now: datetime) -> tuple[int, list[dict[str, Any]]]:
    r = project.run("plan", "--json", now=now.isoformat())
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    return sum(int(row["planned"]) for row in doc["planned"]), doc["queue"]


def check_summary_matches_the_scan(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv",
                       now=week_before).code == 0
    # A summary of an empty outbox, then of a first plan.
    planned, queue = planned_summary(project, NOW)
    assert planned > 0
    assert queue == scanned(project, NOW)
    # Rows in other states and with earlier or later due times, then a pass that
    # plans nothing: the summary still is the scan's.
    engine = project.engine()
    with engine.begin() as c:
        ids = [row[0] for row in c.execute(Delivery.__table__.select()
                                           .with_only_columns(Delivery.id)
                                           .order_by(Delivery.id).limit(6))]
        c.execute(update(Delivery).where(Delivery.id.in_(ids[:2]))
                  .values(state="retrying", due_at=NOW + timedelta(hours=5)))
        c.execute(update(Delivery).where(Delivery.id.in_(ids[2:4])).values(state="sent"))
        c.execute(update(Delivery).where(Delivery.id == ids[4])
                  .values(due_at=NOW - timedelta(days=2)))
    engine.dispose()
    later = NOW + timedelta(minutes=1)
    planned, queue = planned_summary(project, later)
    assert planned == 0
    assert queue == scanned(project, later)
    # A pass that plans new rows into a group that already has some, due earlier:
    # newcomers (copies of the demo's people under new addresses).
    lines = (project.root / "demo" / "participants.csv").read_text().splitlines()
    newcomers = [lines[0], *(f"new{i}.{line}" for i, line in enumerate(lines[1:40]))]
    (project.root / "newcomers.csv").write_text("\n".join(newcomers) + "\n")
    r = project.run("participants", "import", "newcomers.csv", now="2027-01-11T10:00:00Z")
    assert r.code == 0, r.err
    with engine.begin() as c:
        c.execute(update(Delivery).values(due_at=datetime(2027, 1, 1, tzinfo=UTC))
                  .where(Delivery.id == ids[5]))
    engine.dispose()
    much_later = NOW + timedelta(hours=2)
    planned, queue = planned_summary(project, much_later)
    assert planned > 0
    assert queue == scanned(project, much_later)


def test_plan_summary_is_the_scan_of_the_outbox(project: Project) -> None:
    check_summary_matches_the_scan(project)


def test_dry_run_summary_is_the_outbox_as_it_is(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv",
                       now="2027-01-04T09:00:00Z").code == 0
    assert project.run("participants", "import", "demo/participants.csv",
                       now="2027-01-04T09:00:00Z").code == 0
    r = project.run("plan", "--dry-run", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    assert doc["queue"] == [] == scanned(project, NOW)
