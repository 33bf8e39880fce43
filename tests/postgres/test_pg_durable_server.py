"""Against a PostgreSQL server with durable commits (its defaults): dispatching is accepted
without any risk declared, and a server stopped with `pg_ctl -m immediate` mid-send loses no
committed outcome, so the restarted daemon sends nothing twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.channels.smtp_server import free_port
from tests.conftest import Project
from tests.daemon.conftest import (
    Daemon,
    announce_demo_courses,
    bundles,
    import_participants,
    states,
    wait_for,
)
from tests.postgres.cluster import Cluster
from tests.postgres.conftest import NON_DURABLE_ACCEPTED, fresh_database
from tests.smtp_project import SlowSink


@pytest.fixture(scope="module")
def durable_cluster(pg_server_url: str) -> Iterator[Cluster]:
    """A private server with PostgreSQL's default, durable settings (fsync and
    synchronous_commit on). `pg_server_url` only so that CI requires PostgreSQL here too."""
    cluster = Cluster(settings={"max_connections": "100"})
    try:
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def project_db_url(durable_cluster: Cluster) -> Iterator[str]:
    with fresh_database(durable_cluster.url) as url:
        yield url


@pytest.fixture
def durable_project(project: Project) -> Project:
    """The project with no risk accepted: this server needs none."""
    settings = project.config / "settings.yaml"
    settings.write_text(settings.read_text().replace(NON_DURABLE_ACCEPTED, ""))
    assert "accept_non_durable_commits" not in settings.read_text()
    return project


def test_a_durable_server_is_accepted_without_declaring_any_risk(
        durable_project: Project) -> None:
    project = durable_project
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    import_participants(project, 5)
    result = project.run("send-now")
    assert result.code == 0, result
    assert "not durable" not in result.err
    assert states(project).get("sent", 0) > 0
    assert len(project.outbox("email")) > 0


@pytest.mark.slow
def test_server_stopped_immediately_mid_send_then_restarted_sends_nothing_twice(
        durable_project: Project, durable_cluster: Cluster) -> None:
    project = durable_project
    sink = SlowSink()
    sink.delay = 0.05
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    daemon = Daemon(project)
    try:
        announce_demo_courses(project, port)
        import_participants(project)
        daemon.start()
        wait_for(lambda: len(sink.received) >= 15, 30, "fifteen sends")
        durable_cluster.stop("immediate")  # the server crashes mid-send
        daemon.kill()
        crashed_at = len(sink.received)
        durable_cluster.start()
        before = states(project)
        # Every message the sink took was committed `sent` first, or was the one `sending`.
        assert before.get("sent", 0) + before.get("sending", 0) >= crashed_at

        sink.delay = 0
        daemon.start()
        wait_for(lambda: set(states(project)) <= {"sent", "unknown"}, 40,
                 "the restarted daemon to finish")
        got = Counter(sink.received)
        assert [k for k, n in got.items() if n > 1] == []
        after = states(project)
        assert after["sent"] > crashed_at
        # One connection: at most one email (one bundle's rows) in doubt.
        assert len(bundles(project, "unknown")) <= 1
        assert daemon.stop() == 0
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
        controller.stop()
