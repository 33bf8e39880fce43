"""`herald run` under SIGTERM during a stuck job exits within 10 s; a trickling source is
abandoned at its `timeout` and the daemon stays healthy."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest

from tests.conftest import Project
from tests.daemon.conftest import Daemon, wait_for
from tests.trickle_server import Trickle


@pytest.fixture
def trickle() -> Iterator[Trickle]:
    server = Trickle(every=1.0).start()
    yield server
    server.stop()


def source(url: str, timeout: str) -> str:
    return f"sources:\n  trickly:\n    location: {url}\n    every: 1h\n    timeout: {timeout}\n"


def test_sigterm_during_a_stuck_source_download_exits_within_10s(
        project: Project, daemon: Daemon, trickle: Trickle) -> None:
    project.write_config("sources.yaml", source(trickle.url("/body.csv"), "10m"))
    daemon.start()
    wait_for(lambda: trickle.requests >= 1, 15, "the source poll to start")
    time.sleep(1.5)  # the job is now inside the download
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.proc is not None
    code = daemon.proc.wait(timeout=12)
    took = time.monotonic() - started
    assert code == 0, daemon.log
    assert took < 10, f"took {took:.1f}s"
    assert "leaving 1 job(s) still running" in daemon.log
    assert "herald run: stopped" in daemon.log


def test_a_trickling_source_is_abandoned_and_the_daemon_stays_healthy(
        project: Project, daemon: Daemon, trickle: Trickle) -> None:
    project.write_config("sources.yaml", source(trickle.url("/body.csv"), "2s"))
    daemon.start()
    wait_for(lambda: "abandoned after 2 s" in daemon.log, 15, "the source to be abandoned")
    assert "source trickly rejected" in daemon.log
    wait_for(lambda: daemon.health()[0] == 200, 10, "/healthz to be 200")
    assert daemon.stop() == 0


def test_sigterm_during_a_send_to_a_hung_smtp_server_exits_within_10s(
        project: Project, daemon: Daemon) -> None:
    from aiosmtpd.controller import Controller

    from tests.channels.smtp_server import free_port
    from tests.daemon.conftest import (
        announce_demo_courses,
        bundles,
        import_participants,
        states,
    )
    from tests.smtp_project import SlowSink

    sink = SlowSink()
    sink.delay = 120  # the server takes the data and never answers in time
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        announce_demo_courses(project, port, timeout=90)
        import_participants(project, 5)
        daemon.start()
        wait_for(lambda: states(project).get("sending", 0) >= 1, 20, "a send under way")
        started = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.proc is not None
        code = daemon.proc.wait(timeout=12)
        assert code == 0, daemon.log
        assert time.monotonic() - started < 10
        assert "leaving 1 job(s) still running (drain:email)" in daemon.log
        # The one email cut short (its bundle's rows) is `sending` under a dead owner: the
        # next start settles it.
        assert states(project).get("sending", 0) >= 1
        assert len(bundles(project, "sending")) == 1
    finally:
        controller.stop()
