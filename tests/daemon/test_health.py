"""/healthz verdicts (in-process: the HTTP server, the checks) and `herald status`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest

from scheduler.app import App
from scheduler.daemon import Daemon
from scheduler.db import make_engine
from scheduler.health import HealthServer, JobTicks, database_check
from scheduler.metrics import Metrics
from tests.channels.smtp_server import free_port
from tests.conftest import Project
from tests.smtp_project import ANNOUNCE


def get(port: int, path: str) -> tuple[int, dict[str, object] | str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            code, body = r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        code, body = exc.code, exc.read().decode()
    return code, json.loads(body) if path == "/healthz" else body


@pytest.fixture
def app(project: Project) -> Iterator[App]:
    project.write_config("campaigns.yaml", ANNOUNCE)
    a = App(project.config, project.db_url)
    yield a
    a.close()


def serve(daemon: Daemon) -> HealthServer:
    server = HealthServer("127.0.0.1", 0, daemon.metrics.registry, daemon.health)
    server.start()
    return server


def test_healthy_while_running_then_503_naming_the_scheduler_once_stopped(app: App) -> None:
    daemon = Daemon(app, http_port=0)
    daemon.ticks.every["dispatch"] = 5.0
    daemon.ticks.last_ok["dispatch"] = time.time()
    daemon.scheduler.start()
    server = serve(daemon)
    try:
        code, doc = get(server.port, "/healthz")
        assert code == 200, doc
        assert isinstance(doc, dict) and doc["status"] == "ok"
        daemon.scheduler.shutdown(wait=False)
        code, doc = get(server.port, "/healthz")
        assert code == 503
        assert isinstance(doc, dict) and doc["failing"] == ["scheduler"]
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()


def test_a_stalled_job_makes_it_503(app: App) -> None:
    daemon = Daemon(app, http_port=0)
    daemon.scheduler.start()
    daemon.ticks.every["dispatch"] = 5.0
    daemon.ticks.last_ok["dispatch"] = time.time() - 60  # > 3 × 5 s + slack
    server = serve(daemon)
    try:
        code, doc = get(server.port, "/healthz")
        assert code == 503
        assert isinstance(doc, dict) and doc["failing"] == ["jobs"]
        checks = doc["checks"]
        assert isinstance(checks, dict)
        assert checks["jobs"]["jobs"]["dispatch"]["ok"] is False
    finally:
        daemon.scheduler.shutdown(wait=False)
        server.stop()


def test_ticks_under_way_count_as_alive_for_a_while() -> None:
    ticks = JobTicks(started_at=time.time() - 100)
    ticks.every["dispatch"] = 5.0
    now = time.time()
    assert ticks.check(now)[0] is False  # never ticked in 100 s
    ticks.running["dispatch"] = now - 60  # a long drain under way
    assert ticks.check(now)[0] is True
    ticks.running["dispatch"] = now - 3600  # stuck for an hour
    assert ticks.check(now)[0] is False


def test_an_unreachable_database_is_a_failing_check_without_the_url() -> None:
    port = free_port()  # nothing listens there
    engine = make_engine(f"postgresql://herald:s3cret@127.0.0.1:{port}/herald"
                         "?connect_timeout=2")
    try:
        ok, detail = database_check(engine, timeout=5)
    finally:
        engine.dispose()
    assert ok is False
    assert "s3cret" not in detail and detail == "OperationalError"


def test_metrics_use_their_own_registry(app: App) -> None:
    first, second = Metrics(app.sessions), Metrics(app.sessions)
    first.observe_send("email", "retrying", 0.2)
    first.observe_send("email", "sent", 0.1)
    assert first.registry.get_sample_value("herald_retries_total", {"channel": "email"}) == 1
    assert second.registry.get_sample_value("herald_retries_total", {"channel": "email"}) is None
    assert first.registry.get_sample_value("herald_send_seconds_count",
                                           {"channel": "email"}) == 2


def test_status_shows_queue_heartbeats_and_stale_owners(project: Project, app: App) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    assert project.run("participants", "import", "demo/participants.csv").code == 0
    assert project.run("plan").code == 0
    daemon = Daemon(app, http_port=0)
    daemon.ticks.every.update(dispatch=5.0, plan=60.0)
    daemon.ticks.last_ok["dispatch"] = time.time()
    daemon.heartbeat()

    doc = project.run("status", "--json", now=None).json()
    assert isinstance(doc, dict)
    assert doc["queue"]["email"]["pending"] > 0
    assert doc["unknown"] == 0
    [beat] = doc["daemons"]
    assert beat["owner"] == daemon.dispatcher.owner and beat["stale"] is False
    jobs = {j["job"]: j for j in beat["jobs"]}
    assert set(jobs) == {"dispatch", "plan"} and jobs["plan"]["last_ok_at"] is None

    later = (app.clock() + timedelta(minutes=10)).isoformat()
    doc = project.run("status", "--json", now=later).json()
    assert isinstance(doc, dict) and doc["daemons"][0]["stale"] is True
    text = project.run("status", now=later)
    assert text.code == 0 and "(stale)" in text.out and "Queue" in text.out
    daemon.forget_heartbeat()
    doc = project.run("status", "--json", now=None).json()
    assert isinstance(doc, dict) and doc["daemons"] == []
