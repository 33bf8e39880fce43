"""The dispatcher sends exactly a given set of deliveries (e.g. a sign-up's confirmation)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from scheduler.app import App
from scheduler.filter import Filter
from scheduler.models import Delivery
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure, states

WHEN = datetime(2027, 1, 11, 9, 5, tzinfo=UTC)


def test_only_the_given_deliveries_are_sent(project: Project, tmp_path: Path) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        assert project.run("plan", now=NOW).code == 0
        app = App(project.config, project.db_url, now=WHEN)
        try:
            with app.sessions() as s:
                rows = s.execute(select(Delivery.id, Delivery.dedup_key)
                                 .order_by(Delivery.id)).all()
            assert len(rows) >= 3
            chosen = {rows[-1].id, rows[0].id}
            outcome = app.dispatcher().run_once(Filter(delivery_ids=frozenset(chosen)))
            assert outcome == {("email", "sent"): 2}
            sent = {k for k, v in states(project).items() if v == "sent"}
            assert sent == {rows[-1].dedup_key, rows[0].dedup_key}
            assert len(server.received) == 2
            assert all(v == "pending" for k, v in states(project).items() if k not in sent)
        finally:
            app.close()
