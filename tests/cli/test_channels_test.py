"""`herald channels test` renders a real template (issue 18, point 8): the announcement of the
next catalogue course (or a sample one) in the channel's language; an email channel needs
`--to`."""

from __future__ import annotations

import email
import email.policy
import json

from tests.conftest import Project


def test_email_channel_needs_to(project: Project) -> None:
    r = project.run("channels", "test", "email")
    assert r.code == 2
    assert "--to" in r.err and len(r.err.splitlines()) == 1
    assert project.outbox("email") == []


def test_email_test_is_the_announcement_of_a_real_course(project: Project) -> None:
    assert project.run("courses", "import", "demo/courses.csv").code == 0
    listed = project.run("courses", "list", "--json").json()
    assert isinstance(listed, list)
    r = project.run("channels", "test", "email", "--to", "ops@example.org")
    assert r.code == 0, r.err
    [eml] = project.outbox("email")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "ops@example.org"
    subject = str(msg["Subject"])
    assert subject.startswith("[test] ")
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    titles = [c["title"] for c in listed if c["status"] == "open"]
    assert any(t in subject or t in text for t in titles)
    assert "This is a test message from CoE Herald" not in text


def test_post_test_without_a_catalogue_uses_a_sample_course(project: Project) -> None:
    r = project.run("channels", "test", "mastodon")
    assert r.code == 0, r.err
    [post] = project.outbox("mastodon")
    doc = json.loads(post.read_text())
    text = json.dumps(doc)
    assert "Spectrum Management Fundamentals" in text  # the sample course
    assert "CoE Herald test post" not in text
