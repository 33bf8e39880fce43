"""Cadence's pass streams the outbox: people are decided a batch at a time (issue 22)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.app import App
from scheduler.models import Delivery
from scheduler.outbox import cadence
from scheduler.outbox.statements import CLAIMABLE
from tests.conftest import DEMO_NOW, Project


def import_demo(project: Project) -> None:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    r = project.run("participants", "import", "demo/participants.csv", now=week_before)
    assert r.code == 0, r.err
    assert project.run("plan").code == 0


def test_cadence_reads_and_decides_one_batch_of_people_at_a_time(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import_demo(project)
    now = datetime.fromisoformat(DEMO_NOW)
    app = App(project.config, project.db_url, now)
    try:
        with app.sessions() as s:
            people = s.scalar(select(func.count(func.distinct(Delivery.participant_id))).where(
                Delivery.channel == "email", Delivery.kind == "course_email",
                Delivery.state.in_(CLAIMABLE), Delivery.due_at <= now))
        assert people and people > 100
        batches: list[int] = []
        real = cadence._history

        def history(session: Any, people: Sequence[int], *args: Any) -> Any:
            batches.append(len(people))
            return real(session, people, *args)

        monkeypatch.setattr(cadence, "PEOPLE_PER_BATCH", 10)
        monkeypatch.setattr(cadence, "_history", history)
        with app.sessions() as s, s.begin():
            result = cadence.apply_cadence(s, app.config, "email", now)
        # Each batch's rows read, decided and written before the next batch is read.
        assert max(batches) <= 10 and len(batches) >= 3  # those with a reminder due
        with app.sessions() as s:
            unbundled = s.scalar(select(func.count()).where(
                Delivery.channel == "email", Delivery.kind == "course_email",
                Delivery.state.in_(CLAIMABLE), Delivery.due_at <= now,
                Delivery.bundle.is_(None)))
        assert unbundled == 0  # every due row of every batch was decided
        assert result.rows > 0
    finally:
        app.close()
