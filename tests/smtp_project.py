"""Set-up shared by the tests that run Herald against an SMTP server on loopback: the
`channels.yaml` of one `email` channel, the one-campaign `campaigns.yaml`, a slow sink,
and `herald send-now` as a subprocess (for the kill -9 tests)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from tests.conftest import ROOT, Project

ANNOUNCE = """
campaigns:
  announce:
    kind: course_email
    channel: email
    template: email/announcement
    timing: on_publish
"""
"""One course email campaign on the `email` channel, sent as soon as a course is published."""


def smtp_channels(port: int, **settings: object) -> str:
    """`channels.yaml` with one `email` SMTP channel on 127.0.0.1:`port` (no TLS), plus
    `settings` (`connections=2`, `username="${SMTP_USER}"`, …) in the order given."""
    lines = "".join(f"    {key}: {value}\n" for key, value in settings.items())
    return ("channels:\n  email:\n    type: smtp\n    host: 127.0.0.1\n"
            f"    port: {port}\n    security: none\n"
            f"    from: \"ITU Academy <academy@example.org>\"\n{lines}")


def configure_email(project: Project, port: int, campaigns: str = ANNOUNCE,
                    **settings: object) -> None:
    """Write the SMTP channel (`smtp_channels`) and `campaigns` into the project."""
    project.write_config("channels.yaml", smtp_channels(port, **settings))
    project.write_config("campaigns.yaml", campaigns)


def send_now_subprocess(project: Project, now: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment of `herald send-now` in its own process (to kill it)."""
    cmd = [sys.executable, "-m", "scheduler.cli", "--config-dir", str(project.config),
           "--db", project.db_url, "--now", now, "send-now"]
    return cmd, {**os.environ, "PYTHONPATH": str(ROOT)}


class SlowSink:
    """An aiosmtpd handler that takes `delay` seconds per message and remembers each
    (recipient, subject)."""

    def __init__(self) -> None:
        self.delay = 0.2
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        msg = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, str(msg["Subject"])))
        return "250 OK"
