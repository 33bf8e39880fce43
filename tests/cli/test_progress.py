"""Progress on long work (issue 18, point 3: send-now and the imports): bars on a terminal,
totals in the `-v` log otherwise, nothing extra with `--json`."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_NOW, Project


def imported(project: Project) -> list[str]:
    week_before = "2027-01-04T09:00:00Z"
    assert project.run("courses", "import", "demo/courses.csv", now=week_before).code == 0
    assert project.run("participants", "import", "demo/participants.csv", now=week_before).code == 0
    return herald(project)


def data_rows(path: str) -> int:
    """A demo CSV's rows (its header aside)."""
    return len(Path(path).read_text(encoding="utf-8").splitlines()) - 1


def herald(project: Project) -> list[str]:
    return [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
            "--db", project.db_url, "--now", DEMO_NOW]


def on_terminal(argv: list[str]) -> tuple[int, str, str]:
    """Run `argv` with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=follower,
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
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def test_bars_on_a_terminal(project: Project) -> None:
    argv = imported(project)
    code, out, screen = on_terminal([*argv, "send-now"])
    assert code == 0
    assert "email" in screen and "━" in screen  # a bar per channel, drawn on the terminal
    # Cadence (issue 16): 162 emails carry the 887 rows sent; the bar counts messages and
    # names the deliveries that were due apart, never one over the other.
    assert "162 messages of 898 deliveries due" in screen
    assert not re.search(r"\b\d+/\d+\b", screen)
    assert "━" not in out  # stdout keeps the summary only


def test_plain_logs_and_json(project: Project) -> None:
    argv = imported(project)
    logged = subprocess.run([*argv, "-v", "send-now"], capture_output=True, text=True,
                            check=False)
    assert logged.returncode == 0
    lines = [line for line in logged.stderr.splitlines() if "send-now:" in line]
    # Each number says what it counts: deliveries (outbox rows) or messages (emails sent).
    assert any("send-now: 898 deliveries due on 1 channel(s)" in line for line in lines)
    # Cadence bundles a person's courses: the 887 rows sent go in 162 emails; 11 rows it
    # cancelled were never sent (898 due in all).
    assert any(line.endswith("email: 162 messages sent carrying 887 deliveries, "
                             "11 deliveries cancelled") and "done in" in line for line in lines)
    assert not re.search(r"delivery \d+ on", logged.stderr)  # totals, not a line per delivery
    assert "alembic" not in logged.stderr  # nor the libraries' own chatter
    assert "━" not in logged.stderr
    quiet = subprocess.run([*argv, "send-now", "--json"], capture_output=True, text=True,
                           check=False)
    assert quiet.returncode == 0
    json.loads(quiet.stdout)
    assert quiet.stderr == ""


def test_import_bars_on_a_terminal(project: Project) -> None:
    argv = herald(project)
    code, out, screen = on_terminal([*argv, "courses", "import", "demo/courses.csv"])
    assert code == 0
    assert "courses import" in screen and "━" in screen
    rows = data_rows("demo/courses.csv")
    assert f"{rows}/{rows}" in screen  # rows imported of the file's rows
    assert "━" not in out and f"added: {rows}" in out
    code, out, screen = on_terminal([*argv, "participants", "import", "demo/participants.csv"])
    assert code == 0
    people = data_rows("demo/participants.csv")
    assert "participants import" in screen and f"{people}/{people}" in screen
    assert "━" not in out and f"added: {people}" in out


def test_import_plain_logs_and_json(project: Project) -> None:
    argv = herald(project)
    logged = subprocess.run([*argv, "-v", "courses", "import", "demo/courses.csv"],
                            capture_output=True, text=True, check=False)
    assert logged.returncode == 0
    rows = data_rows("demo/courses.csv")
    assert f"courses import: {rows} rows to import" in logged.stderr
    assert f"courses import: {rows} rows imported in" in logged.stderr
    assert "━" not in logged.stderr
    quiet = subprocess.run([*argv, "-v", "participants", "import", "demo/participants.csv",
                            "--json"], capture_output=True, text=True, check=False)
    assert quiet.returncode == 0
    doc = json.loads(quiet.stdout)
    people = data_rows("demo/participants.csv")
    assert doc["added"] == people and doc["updated"] == 0
    assert "rows" not in quiet.stderr  # no progress lines, even at -v
    again = subprocess.run([*argv, "courses", "import", "demo/courses.csv", "--json"],
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0 and again.stderr == ""
    assert len(json.loads(again.stdout)["unchanged"]) == rows


def test_a_minute_line_for_a_long_import(caplog: pytest.LogCaptureFixture) -> None:
    """Not on a terminal, a long import says how far it is once a minute (here: every call)."""
    from scheduler.cli.progress import RowLog

    progress = RowLog("participants import", every=0.0)
    with caplog.at_level(logging.INFO, logger="herald"):
        progress.start(200_000)
        progress.advance(10_000)
        progress.advance(10_000)
        progress.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "participants import: 200,000 rows to import"
    assert lines[1].startswith("participants import: 10,000 of 200,000 rows, ")
    assert lines[2].startswith("participants import: 20,000 of 200,000 rows, ")
    assert lines[3].startswith("participants import: 20,000 rows imported in ")


def test_totals_per_channel() -> None:
    from scheduler.logs import per_channel

    outcome = {("email", "sent"): 1200, ("email", "retrying"): 3, ("x", "sent"): 1}
    assert per_channel(outcome) == "email 3 retrying, 1,200 sent; x 1 sent"
    planned = {("announce", "email"): 10, ("digest", "email"): 2, ("social", "x"): 1}
    assert per_channel(planned, channel_first=False) == "email 12 planned; x 1 planned"
    assert per_channel({}) == "nothing"


def test_send_now_totals_name_what_each_number_counts() -> None:
    from collections import Counter

    from scheduler.cli.progress import totals

    messages = Counter({("email", "sent"): 162, ("email", "retrying"): 1, ("x", "sent"): 1})
    settled = Counter({("email", "sent"): 887, ("email", "retrying"): 3,
                       ("email", "cancelled"): 11, ("x", "sent"): 1})
    assert totals(messages, settled) == (
        "email: 1 message retrying carrying 3 deliveries, 162 messages sent carrying 887 "
        "deliveries, 11 deliveries cancelled; x: 1 message sent carrying 1 delivery")
    assert totals(Counter(), Counter()) == "nothing"


def test_send_now_summary_counts_messages_and_the_deliveries_they_carried(
        project: Project) -> None:
    argv = imported(project)
    done = subprocess.run([*argv, "send-now", "--json"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    rows = {row["state"]: row for row in json.loads(done.stdout)["dispatched"]}
    assert rows["sent"]["count"] == 162 and rows["sent"]["deliveries"] == 887
    assert rows["cancelled"]["deliveries"] == 11
