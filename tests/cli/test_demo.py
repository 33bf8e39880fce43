"""`make demo` shows what the README promises (issue 18, point 9): the 910 demo emails (887
course emails, 5 catalogues, 18 centre invitations), at least
one post per social sink, where they are, and what to try next; a second run sends nothing."""

from __future__ import annotations

import pytest

from scheduler import demo
from tests.conftest import Project


def test_demo_writes_emails_and_a_post_per_social_sink(
        project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert demo.main(project.root) == 0
    out = capsys.readouterr().out
    # course emails, catalogues to the 5 contacts, invitations to the 18 centres
    assert len(project.outbox("email")) == 887 + 5 + 18
    for sink in ("mastodon", "x", "linkedin"):
        assert len(project.outbox(sink)) >= 1, sink
        assert f"A post on {sink}: " in out
    assert "What next:" in out and "source .venv/bin/activate" in out
    assert "herald" in out.split("What next:")[1] and "status" in out.split("What next:")[1]
    before = {sink: project.outbox(sink) for sink in ("email", "mastodon", "x", "linkedin")}
    assert demo.main(project.root) == 0
    assert {sink: project.outbox(sink) for sink in before} == before
