"""A batch is read once, then sent over seconds or minutes: what changed meanwhile counts.

An unsubscribe, a bounce recorded by another process, or a cancelled course that lands after
the batch was read must still stop the send: the statement that marks a delivery `sending`
checks them again. The next run then settles the delivery with its ordinary state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from scheduler.app import App
from scheduler.batch import load_batch
from scheduler.filter import Filter
from scheduler.models import Course, Delivery, Participant, Suppression
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure

WHEN = datetime(2027, 1, 11, 9, 5, tzinfo=UTC)


def change_unsubscribe(app: App) -> None:
    with app.engine.begin() as c:
        c.execute(update(Participant).where(Participant.email == "ana@example.org")
                  .values(status="unsubscribed"))


def change_suppress(app: App) -> None:
    with app.sessions() as s, s.begin():
        s.add(Suppression(email="ana@example.org", reason="complaint", detail="",
                          created_at=WHEN))


def change_cancel(app: App) -> None:
    with app.engine.begin() as c:
        c.execute(update(Course).where(Course.id == "A1").values(status="cancelled"))


@pytest.mark.parametrize(("change", "settled"), [
    (change_unsubscribe, "cancelled"),
    (change_suppress, "suppressed"),
    (change_cancel, "cancelled"),
])
def test_a_change_after_the_batch_was_read_stops_the_send(
        project: Project, tmp_path: Path, change: object, settled: str) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        assert project.run("plan", now=NOW).code == 0
        app = App(project.config, project.db_url, now=WHEN)
        try:
            dispatcher = app.dispatcher()
            channel = app.channels()["email"]
            ids = dispatcher.claim("email", Filter(course="A1"), 100)
            with app.sessions() as s:
                batch = load_batch(s, ids)
            ana = next(d for d in batch.deliveries
                       if batch.participants[d.participant_id or 0].email == "ana@example.org")
            assert callable(change)
            change(app)
            assert dispatcher.process(ana, channel, batch) == "skipped"
            assert not [m for m in server.received if "ana@example.org" in m.rcpt_tos]
            dispatcher.release_all()
            # The next run settles it through the ordinary checks, and sends the others.
            dispatcher.run_once(Filter(course="A1"))
            with app.sessions() as s:
                state = s.scalar(select(Delivery.state).where(Delivery.id == ana.id))
            assert state == settled
            assert not [m for m in server.received if "ana@example.org" in m.rcpt_tos]
        finally:
            app.close()
