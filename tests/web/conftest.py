"""A Flask test client over a project copy with the demo courses imported."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.app import App
from scheduler.web import create_app
from tests.conftest import DEMO_NOW, Project

NOW = datetime.fromisoformat(DEMO_NOW.replace("Z", "+00:00")).astimezone(UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    project: Project
    app: App
    flask: Flask
    client: FlaskClient

    def emails(self) -> list[EmailMessage]:
        out = []
        for path in self.project.outbox("email"):
            msg = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def link_in(self, msg: EmailMessage, route: str) -> str:
        part = msg.get_body(("plain",))
        assert part is not None
        found = re.search(rf"http://localhost:8080(/{route}/[A-Za-z0-9_.-]+)", part.get_content())
        assert found, part.get_content()
        return found.group(1)

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        found = CSRF.search(page.get_data(as_text=True))
        assert found, page.get_data(as_text=True)
        return found.group(1)


@pytest.fixture
def web(project: Project) -> Iterator[Web]:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    app = App(project.config, project.db_url, NOW)
    flask = create_app(app)
    flask.config["TESTING"] = True
    try:
        yield Web(project, app, flask, flask.test_client())
    finally:
        app.close()


def subscribe(web: Web, email: str, **extra: str | list[str]) -> int:
    """Post the sign-up form as a browser would (CSRF token from the page); the status."""
    token = web.csrf("/subscribe")
    data: dict[str, str | list[str]] = {"csrf_token": token, "email": email, "name": "Ama",
                                        "language": "en", "frequency": "immediate", **extra}
    return web.client.post("/subscribe", data=data).status_code


def project_root(web: Web) -> Path:
    return web.project.root
