"""`posts submit` refuses a channel that is not social (issue 18, point 7): the shipped `email`
channel is a file sink that writes .eml files, so the channel's type alone cannot tell."""

from __future__ import annotations

from tests.conftest import Project


def test_a_post_to_the_email_channel_is_refused(project: Project) -> None:
    (project.root / "p.yaml").write_text("text: Our lab opens\nchannels: [email, mastodon]\n")
    r = project.run("posts", "submit", "p.yaml")
    assert r.code == 2
    assert r.err.splitlines() == [
        "error: p.yaml: channels: 'email' is not a social channel (social ones: mastodon, x, "
        "linkedin)"]
    assert project.run("posts", "list", "--json").json() == []
    (project.root / "ok.yaml").write_text("text: Our lab opens\nchannels: [mastodon]\n")
    assert project.run("posts", "submit", "ok.yaml").code == 0
