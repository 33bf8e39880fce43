"""A live dispatcher settles its own sends whose outcome a database outage lost
(issue 17, point 4): at most those become `unknown`, without waiting for a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from scheduler.app import App
from scheduler.dispatch import Dispatcher
from scheduler.filter import Filter
from scheduler.models import Delivery, DeliveryEvent
from scheduler.outbox.writer import Gated, OutboxWriter, Writes
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure, states

WHEN = datetime(2027, 1, 11, 9, 5, tzinfo=UTC)


class Tick:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_send_whose_outcome_was_lost_becomes_unknown_in_the_live_process(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        assert project.run("plan", now=NOW).code == 0
        planned = len(states(project))
        # Cadence (issue 16): one email per person, carrying every course due for them.
        people = len({key.rsplit(":", 1)[1] for key in states(project)})
        assert people < planned
        app = App(project.config, project.db_url)
        clock = Tick(WHEN)
        try:
            dispatcher = Dispatcher(app.sessions, app.config, app.channels(), app.builder(),
                                    clock=clock, lease=timedelta(minutes=5))
            # The database goes away once the first send has begun: its outcome, queued
            # for the next commit, is never written.
            write, write_gated = OutboxWriter.write, OutboxWriter.write_gated
            commits: list[int] = []

            def gone() -> None:
                if commits:
                    raise OperationalError("COMMIT", {}, ConnectionError("server gone"))
                commits.append(1)

            def outage(self: OutboxWriter, writes: Writes) -> int:
                gone()
                return write(self, writes)

            def gated_outage(self: OutboxWriter, writes: Writes, gated: Gated) -> list[bool]:
                gone()
                return write_gated(self, writes, gated)

            monkeypatch.setattr(OutboxWriter, "write", outage)
            monkeypatch.setattr(OutboxWriter, "write_gated", gated_outage)
            with pytest.raises(OperationalError):
                dispatcher.run_once(Filter())
            monkeypatch.undo()
            assert len(server.received) == 1
            sending = [k for k, v in states(project).items() if v == "sending"]
            assert len(sending) == 1
            # The database is back. Before the lease runs out nothing is settled ...
            assert dispatcher.recover() == {}
            # ... after it, the same live dispatcher's reaper settles its own row.
            clock.now = WHEN + timedelta(minutes=6)
            assert dispatcher.recover() == {"unknown": 1}
            assert states(project)[sending[0]] == "unknown"
            with app.sessions() as s:
                did = s.scalar(select(Delivery.id).where(Delivery.dedup_key == sending[0]))
                kinds = list(s.scalars(select(DeliveryEvent.type)
                                       .where(DeliveryEvent.delivery_id == did)))
            assert kinds == ["unknown"]
            # The rest goes out, once each; the one in doubt is never sent again.
            dispatcher.run_once(Filter())
            assert len(server.received) == people
            unknown = list(states(project).values()).count("unknown")
            assert unknown == len([k for k in states(project)
                                   if k.endswith(":" + sending[0].rsplit(":", 1)[1])])
        finally:
            app.close()
