"""Progress on long work (issue 18, point 3, for send-now): bars on a terminal, totals in the
`-v` log otherwise, nothing extra with `--json`."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

from tests.conftest import DEMO_NOW, Project


def imported(project: Project) -> list[str]:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv", now=week_before).code == 0
    return [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
            "--db", project.db_url, "--now", DEMO_NOW]


def test_bars_on_a_terminal(project: Project) -> None:
    argv = imported(project)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*argv, "send-now"], stdout=subprocess.PIPE, stderr=follower,
                            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.communicate(timeout=120)[0].decode()
    os.close(leader)
    assert proc.returncode == 0
    screen = b"".join(chunks).decode(errors="replace")
    assert "email" in screen and "━" in screen  # a bar per channel, drawn on the terminal
    # Cadence (issue 16): 162 emails carry the 887 rows sent (the bar counts emails).
    assert re.search(r"162/\d+", screen)  # sent of due, as it went
    assert "━" not in out  # stdout keeps the summary only


def test_plain_logs_and_json(project: Project) -> None:
    argv = imported(project)
    logged = subprocess.run([*argv, "-v", "send-now"], capture_output=True, text=True,
                            check=False)
    assert logged.returncode == 0
    lines = [line for line in logged.stderr.splitlines() if "send-now:" in line]
    assert any("due on" in line for line in lines)
    assert any("done in" in line and "sent" in line for line in lines)
    assert "━" not in logged.stderr
    quiet = subprocess.run([*argv, "send-now", "--json"], capture_output=True, text=True,
                           check=False)
    assert quiet.returncode == 0
    json.loads(quiet.stdout)
    assert quiet.stderr == ""
