"""A dispatcher refuses a PostgreSQL server whose commits are not durable, naming the setting.

The shared test server (scripts/with-postgres.sh) runs with fsync=off and
synchronous_commit=off: the refusal is shown against it, with the acceptance removed from
the test project's settings.yaml. tests/postgres/test_pg_durable_server.py shows the same
project accepted by a durable server.
"""

from __future__ import annotations

import signal

from sqlalchemy import create_engine, text

from tests.conftest import Project
from tests.daemon.conftest import Daemon, import_participants, states, wait_for
from tests.postgres.conftest import NON_DURABLE_ACCEPTED, _driver_url


def require_durable_commits(project: Project) -> None:
    settings = project.config / "settings.yaml"
    settings.write_text(settings.read_text().replace(NON_DURABLE_ACCEPTED, ""))


def test_send_now_refuses_non_durable_commits_unless_the_risk_is_accepted(
        project: Project) -> None:
    require_durable_commits(project)
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    import_participants(project, 10)

    refused = project.run("send-now")
    assert refused.code == 3, refused
    assert "synchronous_commit is off" in refused.err
    assert "fsync is off" in refused.err
    assert "accept_non_durable_commits" in refused.err
    planned = states(project)
    assert planned and set(planned) == {"pending"}  # planned, nothing dispatched
    assert project.outbox("email") == []
    status = project.run("status", "--json").json()["durability"]  # type: ignore[index]
    assert status["durable"] is False and status["dispatching"] is False
    assert "fsync is off" in status["problem"]
    assert "Not dispatching: database commits are not durable" in project.run("status").out
    as_json = project.run("send-now", "--json")
    assert as_json.code == 3
    assert "fsync is off" in " ".join(as_json.json()["trouble"])  # type: ignore[index]

    # synchronous_commit is a per-session setting: made durable for this database, only
    # fsync (a server-wide one) is left to name.
    admin = create_engine(_driver_url(project.db_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        name = c.execute(text("SELECT current_database()")).scalar()
        c.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = on'))
    admin.dispose()
    again = project.run("send-now")
    assert again.code == 3 and "fsync is off" in again.err
    assert "synchronous_commit" not in again.err.replace("accept_non_durable_commits", "")

    # The operator accepts the risk explicitly: dispatching goes ahead.
    settings = project.config / "settings.yaml"
    settings.write_text(settings.read_text() + NON_DURABLE_ACCEPTED)
    accepted = project.run("send-now")
    assert accepted.code == 0, accepted
    after = states(project)
    assert after.get("sent", 0) > 0 and after.get("pending", 0) < planned["pending"]
    assert len(project.outbox("email")) > 0


def test_daemon_plans_but_does_not_dispatch_and_healthz_says_why(project: Project) -> None:
    require_durable_commits(project)
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    import_participants(project, 10)
    daemon = Daemon(project).start()
    try:
        wait_for(lambda: states(project).get("pending", 0) > 0, 20, "planning")
        code, doc = daemon.health()
        wait_for(lambda: "durability" in daemon.health()[1]["failing"], 10,  # type: ignore[operator]
                 "/healthz to name the durability check")
        code, doc = daemon.health()
        assert code == 503
        detail = doc["checks"]["durability"]["detail"]  # type: ignore[index]
        assert "fsync is off" in detail and "accept_non_durable_commits" in detail
        assert set(states(project)) == {"pending"}
        assert project.outbox("email") == []
        assert "not dispatching: database commits are not durable" in daemon.log
        daemon.signal(signal.SIGTERM)
        assert daemon.proc is not None and daemon.proc.wait(timeout=15) == 0
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
