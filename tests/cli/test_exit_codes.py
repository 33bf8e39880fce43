"""Exit codes a cron job can read, and summary words that are delivery states (issue 18, 1-2).

0: what was due was sent or is legitimately held; 3: a channel needs attention, or deliveries
were due on a channel and none could be sent; `status --check` and `channels list --check`
apply the same rule for monitoring scripts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.models import DeliveryState
from tests.channels.smtp_server import SmtpTestServer, free_port
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import NOW, configure

STATES = {s.value for s in DeliveryState}


def summary_rows(doc: object) -> list[dict[str, object]]:
    assert isinstance(doc, dict)
    rows = doc["dispatched"]
    assert isinstance(rows, list)
    return rows


def test_a_dead_smtp_server_exits_3_and_the_checks_say_so(project: Project,
                                                          tmp_path: Path) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
    dead = free_port()
    project.write_config("channels.yaml", (project.config / "channels.yaml").read_text()
                         .replace(f"port: {server.port}", f"port: {dead}"))
    r = project.run("send-now", "--json", now=NOW)
    assert r.code == 3, r.err
    rows = summary_rows(r.json())
    assert {row["state"] for row in rows} == {"retrying"}
    assert "attention: channel email:" in r.err and "none could be sent" in r.err
    # A minute later nothing is due (the retries wait): the channel is still failing.
    again = project.run("send-now", now=NOW)
    assert again.code == 3 and "the last attempt failed" in again.err
    assert project.run("status", now=NOW).code == 0  # without --check: just the report
    for command in (("status", "--check"), ("status", "--check", "--json"),
                    ("channels", "list", "--check")):
        checked = project.run(*command, now=NOW)
        assert checked.code == 3, command
        assert "channel email" in checked.err


def test_refused_credentials_exit_3_with_states_and_reasons(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USER", "wrong")
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password")
    with SmtpTestServer(auth=("right", "right-password")) as server:
        configure(project, server, tmp_path)
        project.write_config("channels.yaml", (project.config / "channels.yaml").read_text()
                             + "    username: ${SMTP_USER}\n    password: ${SMTP_PASSWORD}\n")
        r = project.run("send-now", "--json", now=NOW)
        table = project.run("send-now", now=NOW)
    assert r.code == 3, r.err
    rows = summary_rows(r.json())
    assert {str(row["state"]) for row in rows} <= STATES
    assert any(row["state"] == "pending" and "credentials refused" in str(row.get("reason"))
               for row in rows)
    assert "needs attention" in r.err
    assert table.code == 3
    assert "auth" not in table.out.split() and "held" not in table.out.split()


def test_sent_or_refused_by_the_recipient_is_exit_0(project: Project, tmp_path: Path) -> None:
    with SmtpTestServer() as server:
        configure(project, server, tmp_path)
        server.reject("gone@example.org", "550 5.1.1 No such user here")
        r = project.run("send-now", "--json", now=NOW)
    assert r.code == 0, r.err
    states = {str(row["state"]) for row in summary_rows(r.json())}
    assert {"sent", "failed"} <= states <= STATES
    assert project.run("status", "--check", now=NOW).code == 0
    assert project.run("channels", "list", "--check", now=NOW).code == 0
