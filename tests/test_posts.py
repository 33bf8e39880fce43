"""Centre-submitted posts: checked at submission, posted only once approved, once."""

from __future__ import annotations

import json

from tests.conftest import Project

NOW = "2027-01-11T09:30:00Z"


def submit(project: Project, name: str, body: str) -> tuple[int, str, str]:
    (project.root / name).write_text(body)
    r = project.run("posts", "submit", name, now=NOW)
    return r.code, r.out, r.err


def posted(project: Project, sink: str) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in project.outbox(sink)]


def test_submission_is_checked_against_every_channel(project: Project) -> None:
    long_text = "Join our course on spectrum monitoring " * 10  # ~390 chars: over X's 280
    code, _, err = submit(project, "long.yaml",
                          f"text: {long_text!r}\nchannels: [mastodon, x]\nsubmitted_by: AFRALTI\n")
    assert code == 2
    assert "long.yaml: text:" in err and "'x'" in err and "280" in err
    assert "mastodon" not in err.split("'x'")[0].split("text:")[-1]  # mastodon (500) fits
    code, _, err = submit(project, "bad.json", json.dumps({"text": "hi", "channels": ["nope"]}))
    assert code == 2 and "bad.json: channels: no channel named 'nope'" in err
    assert project.run("posts", "list", "--json").json() == []


def test_only_approved_posts_go_out_once(project: Project) -> None:
    text = "AFRALTI opens its 2027 spectrum monitoring lab to regulators. https://example.org/lab"
    assert submit(project, "ok.yaml", f"text: {text!r}\nchannels: [mastodon, x]\n"
                  "submitted_by: focal@afralti.example\n")[0] == 0
    assert submit(project, "no.yaml", "text: Not this one\nchannels: [mastodon]\n")[0] == 0
    # Unapproved: nothing is posted, whatever runs.
    assert project.run("send-now", now=NOW).code == 0
    assert not any(text in str(p["text"]) for p in posted(project, "mastodon"))

    approve = project.run("posts", "approve", "1", now=NOW)
    assert approve.code == 0, approve.err
    assert "post 1 on mastodon: slot" in approve.out and "post 1 on x: slot" in approve.out
    assert project.run("posts", "reject", "2", now=NOW).code == 0
    assert project.run("posts", "approve", "2", now=NOW).code == 2  # rejected stays rejected

    for day in range(11, 16):  # a few days of send-now runs through the posting windows
        for hour in range(6, 18):
            assert project.run("send-now", now=f"2027-01-{day:02d}T{hour:02d}:05:00Z").code == 0
    for sink in ("mastodon", "x"):
        texts = [p["text"] for p in posted(project, sink)]
        assert texts.count(text) == 1, sink
        assert "Not this one" not in texts
    statuses = {p["id"]: p["status"] for p in project.run("posts", "list", "--json").json()}  # type: ignore[union-attr]
    assert statuses == {1: "approved", 2: "rejected"}
