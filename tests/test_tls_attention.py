"""A certificate that fails verification halts the SMTP channel ("needs attention", with
the reason) instead of being retried per message; `send-now` exits 3. With `ca_file` naming
the private CA, the same server is trusted. A real loopback server (aiosmtpd) presents a
self-signed certificate, over STARTTLS and over implicit TLS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.channels.smtp_server import SmtpTestServer, make_certificate
from tests.conftest import Project
from tests.daemon.conftest import import_participants, states
from tests.smtp_project import ANNOUNCE


def channels_yaml(server: SmtpTestServer, security: str, extra: str = "") -> str:
    return (f"channels:\n  email:\n    type: smtp\n    host: {server.host}\n"
            f"    port: {server.port}\n    security: {security}\n"
            f"    from: \"ITU Academy <academy@example.org>\"\n    connections: 2\n"
            f"    timeout: 5\n{extra}")


@pytest.mark.parametrize(("security", "implicit"), [("starttls", False), ("ssl", True)])
def test_failed_verification_halts_the_channel_and_send_now_exits_3(
        project: Project, tmp_path: Path, security: str, implicit: bool) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    cert, key = make_certificate(tmp_path)
    with SmtpTestServer(certificate=(cert, key), implicit_tls=implicit) as server:
        project.write_config("channels.yaml", channels_yaml(server, security))
        project.write_config("campaigns.yaml", ANNOUNCE)
        assert project.run("courses", "import", "demo/courses.csv").code == 0
        import_participants(project, 20)

        r = project.run("send-now")
        assert r.code == 3, r.err
        assert "channel email needs attention" in r.err
        assert "certificate verification failed" in r.err
        assert server.handler.received == []
        # One failed handshake per connection, not one per email.
        assert server.handler.connections <= 2
        pending = states(project)
        assert set(pending) == {"pending"} and pending["pending"] > 5
        listed = {row["name"]: row for row in project.run("channels", "list", "--json").json()}
        assert listed["email"]["status"] == "needs attention"  # type: ignore[index]
        assert "self-signed certificate" in listed["email"]["reason"]  # type: ignore[index]
        status = project.run("status", "--json").json()
        assert [c["channel"] for c in status["channels_needing_attention"]] == ["email"]  # type: ignore[index]

        # Still flagged on the next run: nothing is tried, still exit 3.
        again = project.run("send-now")
        assert again.code == 3 and server.handler.connections <= 2

        # The operator trusts the private CA: editing the channel lifts the flag.
        project.write_config("channels.yaml",
                             channels_yaml(server, security, f"    ca_file: {cert}\n"))
        fixed = project.run("send-now")
        assert fixed.code == 0, fixed.err
        # Every waiting delivery goes, one email a person (cadence bundles a person's courses).
        assert states(project) == {"sent": pending["pending"]}
        assert len(server.handler.received) == len({m.rcpt_tos for m in server.handler.received})
        assert len(server.handler.received) <= 20
        assert all(m.tls for m in server.handler.received)
