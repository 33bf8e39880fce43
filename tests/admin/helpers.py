"""Shared by the administrations-and-centres tests: the emails a file sink holds, the
signed links in them, and the demo's moments."""

from __future__ import annotations

import base64
import email
import json
import re
from email.message import Message
from pathlib import Path
from typing import Any

from tests.conftest import Project

IMPORTED = "2027-01-04T09:00:00Z"   # after the catalogue's fire (4 January, 08:00)
NOW = "2027-01-11T09:30:00Z"        # the demo's moment
LINK = re.compile(r"https?://[^\s\"<>]+/(i|s)/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")


def setup(project: Project) -> None:
    for args in (("courses", "import", "demo/courses.csv"),
                 ("contacts", "import", "demo/contacts.csv"),
                 ("centres", "import", "demo/coes.csv")):
        r = project.run(*args, now=IMPORTED)
        assert r.code == 0, r.err


def emails(project: Project, prefix: str) -> dict[str, Message]:
    """The sink's emails whose file name starts with `prefix`, by file name."""
    return {p.name: email.message_from_bytes(p.read_bytes())
            for p in project.outbox("email") if p.name.startswith(prefix)}


def part(msg: Message, subtype: str) -> str:
    for p in msg.walk():
        if p.get_content_type() == f"text/{subtype}":
            payload = p.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(p.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


def payload(token: str) -> dict[str, Any]:
    body = token.split(".")[0]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return data


def tokens(text: str, kind: str) -> list[str]:
    return [t for k, t in LINK.findall(text) if k == kind]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
