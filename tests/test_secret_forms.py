"""No form of a credential reaches a log, `--json` output or the database (issue 17, point 2).

A real SMTP server on loopback refuses the login and quotes, in its 535 reply, the base64 of
the user name and password (AUTH LOGIN), the base64 of AUTH PLAIN's `\\0user\\0password`, and
the URL-encoded password. `herald -v send-now` then records that reply; every place it can
land is searched for every encoding of the secrets.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from channels.secrets import scrub
from tests.channels.smtp_server import SmtpTestServer
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import COURSES, NOW, PEOPLE
from tests.smtp_project import configure_email

USER = "herald-mailer@example.org"
PASSWORD = "s3cr3t p@ss/w0rd+=!"  # URL-encoding and base64 both differ from the value


def forms(user: str, password: str) -> dict[str, str]:
    """Every encoding a careless server or library might echo, by name."""
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    def url64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode()

    return {
        "password": password, "user": user,
        "b64 password": b64(password), "b64 user": b64(user),
        "b64 password unpadded": b64(password).rstrip("="),
        "urlsafe b64 password": url64(password),
        "b64 AUTH PLAIN": b64(f"\0{user}\0{password}"),
        "b64 user NUL password": b64(f"{user}\0{password}"),
        "b64 authzid PLAIN": b64(f"{user}\0{user}\0{password}"),
        "quote password": quote(password, safe=""), "quote_plus password": quote_plus(password),
        "quote password lower hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(),
                                           quote(password, safe="")),
    }


def leaks(text: str) -> list[str]:
    found = [name for name, form in forms(USER, PASSWORD).items() if form in text]
    # A longer base64 text that carries the password at another alignment.
    for prefix in ("x", "xy", "xyz"):
        core = base64.b64encode(f"{prefix}{PASSWORD}".encode()).decode()[4:-4]
        if core in text:
            found.append(f"b64 password after {len(prefix)} byte(s)")
    return found


def test_every_form_is_masked_by_the_helper() -> None:
    text = " | ".join(forms(USER, PASSWORD).values())
    assert leaks(text)  # the check can fail
    assert leaks(scrub(text, {USER, PASSWORD})) == []
    plain = base64.b64encode(f"\0literal-user\0{PASSWORD}".encode()).decode()
    # The user name is not a secret here: the password inside the blob is hidden all the same.
    assert leaks(scrub(plain, {PASSWORD})) == []


@pytest.fixture
def echoing_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer(auth=("someone-else", "the-right-one"), echo_auth=True) as server:
        yield server


def test_refused_login_echoed_in_base64_leaks_nowhere(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        echoing_server: SmtpTestServer) -> None:
    monkeypatch.setenv("SMTP_USER", USER)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    configure_email(project, echoing_server.port, username="${SMTP_USER}",
                    password="${SMTP_PASSWORD}", max_attempts=3)
    (tmp_path / "c.csv").write_text(COURSES)
    (tmp_path / "p.csv").write_text(PEOPLE)
    assert project.run("courses", "import", "c.csv", now=NOW).code == 0
    assert project.run("participants", "import", "p.csv", now=NOW).code == 0

    sent = project.run("-v", "send-now", now=NOW)
    listed = project.run("deliveries", "list", "--json", now=NOW)
    status = project.run("status", "--json", now=NOW)
    channels = project.run("channels", "list", "--json", now=NOW)

    # The server did refuse and its reply was recorded (so the check below means something).
    rows = listed.json()
    assert isinstance(rows, list) and rows
    assert any("535" in (r["error"] or "") and "***" in r["error"] for r in rows)
    assert "535" in sent.err
    for name, output in (("send-now -v log", sent.err + sent.out),
                         ("deliveries list --json", listed.out),
                         ("status --json", status.out), ("channels list --json", channels.out)):
        assert leaks(output) == [], name
    db_file = Path(project.db_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db_file) as db:
        dump = "\n".join(db.iterdump())
    assert "535" in dump
    assert leaks(dump) == []
