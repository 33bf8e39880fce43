"""A running daemon picks up an edited config (file change or SIGHUP); a bad one is refused."""

from __future__ import annotations

import signal
import time

from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.daemon.conftest import Daemon, announce_demo_courses, smtp_channels, states, wait_for

HEADER = "email,name,language,country,timezone,topics,regions,languages,modes,frequency,consent\n"


def add_person(project: Project, daemon: Daemon, email: str) -> None:
    """One participant who matches every English course (no topic or region filter)."""
    path = project.root / f"{email}.csv"
    path.write_text(HEADER + f"{email},Someone,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n")
    assert project.run("participants", "import", str(path), now=daemon.now()).code == 0


def recipients(server: SmtpTestServer) -> set[str]:
    return {rcpt for r in server.received for rcpt in r.rcpt_tos}


def all_sent(project: Project) -> bool:
    st = states(project)
    return bool(st) and set(st) == {"sent"}


def test_edited_config_takes_effect_and_a_bad_one_is_refused(
        project: Project, daemon: Daemon) -> None:
    with SmtpTestServer() as first, SmtpTestServer() as second:
        announce_demo_courses(project, first.port)
        daemon.start()
        add_person(project, daemon, "one@example.org")
        wait_for(lambda: all_sent(project) and bool(first.received), 15, "one@ mailed")
        assert recipients(first) == {"one@example.org"}

        project.write_config("channels.yaml", smtp_channels(second.port))
        wait_for(lambda: "configuration reloaded" in daemon.log, 10, "the reload")
        add_person(project, daemon, "two@example.org")
        wait_for(lambda: all_sent(project) and bool(second.received), 15, "two@ mailed")
        assert recipients(second) == {"two@example.org"}
        assert recipients(first) == {"one@example.org"}

        # A broken edit: reported with file, line and reason; the old channel keeps sending.
        project.write_config("channels.yaml", smtp_channels(second.port)
                             + "    colour: blue\n")
        wait_for(lambda: "reload rejected" in daemon.log, 10, "the refusal")
        refusal = [line for line in daemon.log.splitlines() if "reload rejected" in line]
        assert any("channels.yaml:" in line and "colour" in line for line in refusal), refusal
        add_person(project, daemon, "three@example.org")
        wait_for(lambda: all_sent(project) and "three@example.org" in recipients(second), 15,
                 "three@ mailed through the old configuration")
        assert recipients(first) == {"one@example.org"}
        code, health = daemon.health()
        assert code == 200, health

        started = time.monotonic()
        assert daemon.stop(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert "herald run: stopped" in daemon.log


def test_sighup_reloads_without_a_file_watch(project: Project, daemon: Daemon) -> None:
    daemon.env["HERALD_WATCH_EVERY"] = "3600"  # only the signal can trigger the reload
    with SmtpTestServer() as first, SmtpTestServer() as second:
        announce_demo_courses(project, first.port)
        daemon.start()
        time.sleep(0.5)  # the watch job's first tick has read the files as they were
        project.write_config("channels.yaml", smtp_channels(second.port))
        time.sleep(0.5)
        assert "configuration reloaded" not in daemon.log
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in daemon.log, 10, "the SIGHUP reload")
        add_person(project, daemon, "hup@example.org")
        wait_for(lambda: all_sent(project) and bool(second.received), 15, "hup@ mailed")
        assert recipients(second) == {"hup@example.org"}
        assert first.received == []
        assert daemon.stop(timeout=10) == 0
