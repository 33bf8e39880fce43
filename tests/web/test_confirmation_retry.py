"""A confirmation email the server does not take (issue: a failed one must not strand the
person): refused for now, `herald serve` tries again by itself; failed for good, a new
sign-up sends a new confirmation whose link works."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from scheduler.app import App
from scheduler.models import Delivery, Participant
from scheduler.web import create_app
from scheduler.web.mailer import Mailer
from tests.channels.smtp_server import SmtpTestServer, wait_until
from tests.conftest import Project
from tests.smtp_project import configure_email
from tests.web.conftest import NOW, Web, subscribe

LATER = "451 4.3.0 Try again later"


@dataclass
class SmtpWeb:
    web: Web
    server: SmtpTestServer

    def rows(self) -> list[tuple[str, str, int]]:
        """(dedup key, state, attempts) of every confirmation, oldest first."""
        with self.web.app.sessions() as s:
            return [(d.dedup_key, d.state, d.attempts) for d in s.scalars(
                select(Delivery).where(Delivery.kind == "confirmation").order_by(Delivery.id))]

    def person(self, email: str) -> Participant | None:
        with self.web.app.sessions() as s:
            return s.scalar(select(Participant).where(Participant.email == email))


def serving(project: Project, server: SmtpTestServer, retry_delays: tuple[float, ...]
            ) -> SmtpWeb:
    """The public pages over `project`, their emails going to `server`."""
    configure_email(project, server.port, timeout=5)
    app = App(project.config, project.db_url, NOW)
    flask = create_app(app)
    flask.config["TESTING"] = True
    flask.extensions["herald_mailer"] = Mailer(app, retry_delays=retry_delays)
    return SmtpWeb(Web(project, app, flask, flask.test_client()), server)


@pytest.fixture
def smtp_web(project: Project) -> Iterator[SmtpWeb]:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    with SmtpTestServer() as server:
        served = serving(project, server, (0.05, 0.05))
        try:
            yield served
        finally:
            served.web.flask.extensions["herald_mailer"].close()
            served.web.app.close()


def test_a_confirmation_refused_for_now_is_sent_on_a_later_attempt(smtp_web: SmtpWeb) -> None:
    smtp_web.server.fail_next(LATER)
    assert subscribe(smtp_web.web, "ama@example.org") == 200
    p = smtp_web.person("ama@example.org")
    assert p is not None
    wait_until(lambda: smtp_web.rows()[0][1] == "sent")
    assert smtp_web.rows() == [(f"confirm:{p.id}:1", "sent", 2)]  # the retry counted
    accepted = [r for r in smtp_web.server.received if r.accepted]
    assert len(accepted) == 1 and "ama@example.org" in accepted[0].rcpt_tos


def test_after_a_failed_confirmation_asking_again_sends_a_new_one_that_works(
        smtp_web: SmtpWeb) -> None:
    smtp_web.server.fail_next(LATER, count=3)  # the first attempt and both retries
    assert subscribe(smtp_web.web, "kofi@example.org") == 200
    p = smtp_web.person("kofi@example.org")
    assert p is not None
    wait_until(lambda: smtp_web.rows()[0][1] == "failed")
    assert smtp_web.rows() == [(f"confirm:{p.id}:1", "failed", 3)]
    assert not any(r.accepted for r in smtp_web.server.received)

    assert subscribe(smtp_web.web, "kofi@example.org") == 200  # the person asks again
    assert smtp_web.rows() == [(f"confirm:{p.id}:1", "failed", 3),
                               (f"confirm:{p.id}:2", "sent", 1)]
    mail = next(r for r in smtp_web.server.received if r.accepted).message()
    path = smtp_web.web.link_in(mail, "confirm")
    r = smtp_web.web.client.post(path, data={"csrf_token": smtp_web.web.csrf(path)})
    assert r.status_code == 200
    assert smtp_web.person("kofi@example.org").status == "active"  # type: ignore[union-attr]


def test_a_permanent_refusal_is_not_retried(smtp_web: SmtpWeb) -> None:
    smtp_web.server.fail_next("554 5.6.0 Message refused")
    assert subscribe(smtp_web.web, "lin@example.org") == 200
    assert [state for _, state, _ in smtp_web.rows()] == ["failed"]
    time.sleep(0.2)  # past both retry delays: nothing more was attempted
    assert smtp_web.rows()[0][1:] == ("failed", 1) and smtp_web.server.received == []


def test_stopping_serve_settles_a_confirmation_waiting_for_its_retry(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    with SmtpTestServer() as server:
        web = serving(project, server, (60.0,))
        try:
            server.fail_next(LATER)
            assert subscribe(web.web, "wei@example.org") == 200
            assert [state for _, state, _ in web.rows()] == ["sending"]  # waiting to retry
            started = time.monotonic()
            web.web.flask.extensions["herald_mailer"].close()
            assert time.monotonic() - started < 5  # not the minute's wait
            assert [state for _, state, _ in web.rows()] == ["failed"]
        finally:
            web.web.app.close()
