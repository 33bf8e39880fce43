"""`herald run` killed with SIGKILL mid-dispatch, then started again: nothing sent twice."""

from __future__ import annotations

import re
from collections import Counter

from aiosmtpd.controller import Controller

from tests.channels.smtp_server import free_port
from tests.conftest import Project
from tests.daemon.conftest import (
    ANNOUNCE,
    Daemon,
    import_participants,
    smtp_channels,
    states,
    wait_for,
)
from tests.test_crash import SlowSink


def test_sigkill_mid_dispatch_then_restart(project: Project, daemon: Daemon) -> None:
    sink = SlowSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        project.write_config("channels.yaml", smtp_channels(port))
        project.write_config("campaigns.yaml", ANNOUNCE)
        assert project.run("courses", "import", "demo/courses.csv").code == 0
        import_participants(project)
        daemon.start()
        wait_for(lambda: len(sink.received) >= 10, 20, "ten slow sends")
        daemon.kill()
        killed_at = len(sink.received)
        before = states(project)
        assert before.get("sending", 0) <= 1  # one connection: at most one send in flight

        sink.delay = 0
        daemon.start()

        def settled() -> bool:
            st = states(project)
            return set(st) <= {"sent", "unknown"}

        wait_for(settled, 25, "the restarted daemon to finish")
        after = states(project)
        got = Counter(sink.received)
        assert [k for k, n in got.items() if n > 1] == []
        assert after["sent"] > killed_at
        # Only the send in flight at the kill is unknown, and the restart said so.
        assert after.get("unknown", 0) == before.get("sending", 0)
        line = re.search(r"recovered (\d+) unknown, (\d+) released leases", daemon.log)
        assert line is not None, daemon.log
        assert int(line.group(1)) == after.get("unknown", 0)
        assert int(line.group(2)) >= 1  # the rest of the killed daemon's batch went back
        assert daemon.metric("herald_recovered_unknown_total") == after.get("unknown", 0)
        # The unknown one may or may not have reached the sink; every sent one did, once.
        assert after["sent"] <= len(sink.received) <= after["sent"] + after.get("unknown", 0)
        assert daemon.stop() == 0
    finally:
        controller.stop()
