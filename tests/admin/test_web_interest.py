"""`/i/{token}` and `/s/{token}` through a minimal Flask app (the blueprints as `herald
serve` registers them, with CSRF): answers recorded, replaced and withdrawn; a tampered
link changes nothing; a centre's submission waits for approval and is never published
before it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect

from scheduler.app import App
from scheduler.rendering import default_templates_dir
from scheduler.web import interest, submission
from tests.admin.helpers import NOW, emails, part, payload, setup, tokens
from tests.conftest import Project

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web(project: Project) -> Iterator[FlaskClient]:
    setup(project)
    assert project.run("send-now", now=NOW).code == 0
    app = App(project.config, project.db_url, datetime(2027, 1, 20, 10, tzinfo=UTC))
    flask = Flask("herald-test", template_folder=str(default_templates_dir()))
    flask.config.update(SECRET_KEY="test-only", WTF_CSRF_TIME_LIMIT=None)
    flask.extensions["herald"] = app
    CSRFProtect(flask)
    flask.register_blueprint(interest.bp)
    flask.register_blueprint(submission.bp)
    with flask.test_client() as client:
        yield client
    app.close()


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def answers(project: Project, *args: str) -> list[dict[str, object]]:
    rows = project.run("interest", "list", "--json", *args).json()
    assert isinstance(rows, list)
    return rows


def first_link(project: Project, prefix: str, kind: str, language: str = "en") -> str:
    msg = next(m for m in emails(project, prefix).values()
               if m["Content-Language"] == language)
    return tokens(part(msg, "plain"), kind)[0]


def test_an_answer_is_recorded_replaced_and_withdrawn(project: Project, web: FlaskClient
                                                      ) -> None:
    token = first_link(project, "catalogue", "i")
    course = payload(token)["co"]
    page = web.get(f"/i/{token}?participants=5")
    assert page.status_code == 200
    assert 'name="participants"' in page.text and 'value="5"' in page.text
    assert 'name="comment"' in page.text
    assert answers(project) == []  # a GET (a mail scanner) records nothing

    form = {"csrf_token": csrf(web, f"/i/{token}"), "participants": "5",
            "comment": "Two engineers <b>and</b> three lawyers"}
    done = web.post(f"/i/{token}", data=form)
    assert done.status_code == 200
    assert "<b>and</b>" not in done.text and "&lt;b&gt;" in done.text  # data is escaped
    assert f'href="/i/{token}"' in done.text and 'value="withdraw"' in done.text
    rows = answers(project)
    assert len(rows) == 1
    row = rows[0]
    assert row["course"] == course and row["participants"] == 5
    assert row["email"] == "hr.training@mict.example.org"
    assert row["organisation"] == "Ministry of ICT and the Digital Economy"
    assert row["comment"] == "Two engineers <b>and</b> three lawyers"
    assert row["campaign"] == "catalogue" and row["delivery_id"] == payload(token)["d"]
    assert row["centre"]

    # The form shows the standing answer; a new one replaces it in place.
    again = web.get(f"/i/{token}")
    assert 'value="5"' in again.text
    assert web.post(f"/i/{token}", data={**form, "participants": "12", "comment": ""}
                    ).status_code == 200
    rows = answers(project)
    assert [(r["course"], r["participants"], r["comment"]) for r in rows] == [(course, 12, "")]
    assert answers(project, "--course", course) == rows
    assert answers(project, "--centre", str(row["centre"])) == rows
    assert answers(project, "--course", "NOPE") == []

    # Not a whole number: refused, nothing changes.
    for bad in ("abc", "2.5", "0", "-3", ""):
        r = web.post(f"/i/{token}", data={**form, "participants": bad})
        assert r.status_code == 400, bad
    assert answers(project)[0]["participants"] == 12

    out = project.root / "demand.csv"
    r = project.run("interest", "list", "--centre", str(row["centre"]), "--csv", str(out))
    assert r.code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("course,title,centre") and len(lines) == 2 and course in lines[1]

    gone = web.post(f"/i/{token}", data={"csrf_token": form["csrf_token"],
                                         "action": "withdraw"})
    assert gone.status_code == 200
    assert answers(project) == []  # a withdrawn answer leaves the list


def test_a_tampered_or_foreign_token_changes_nothing(project: Project, web: FlaskClient
                                                     ) -> None:
    token = first_link(project, "catalogue", "i")
    form = {"csrf_token": csrf(web, f"/i/{token}"), "participants": "3", "comment": ""}
    body, mac = token.split(".")
    data = payload(token)
    import base64

    forged = base64.urlsafe_b64encode(json.dumps({**data, "k": data["k"] + 1},
                                                 separators=(",", ":")).encode()
                                      ).decode().rstrip("=")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    invitation = first_link(project, "coe_invitation", "s")
    # (A MAC's last base64 character carries padding bits: change one in the middle.)
    other_mac = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    for bad in (f"{forged}.{mac}", f"{flipped}.{mac}", f"{body}.{other_mac}", invitation,
                "garbage"):
        assert web.get(f"/i/{bad}").status_code == 400
        assert web.post(f"/i/{bad}", data=form).status_code == 400
        assert web.post(f"/i/{bad}", data={**form, "action": "withdraw"}).status_code == 400
    assert answers(project) == []
    # Without the CSRF token, a genuine link changes nothing either.
    assert web.post(f"/i/{token}", data={"participants": "3"}).status_code == 400
    assert answers(project) == []


def test_pages_speak_the_recipients_language(project: Project, web: FlaskClient) -> None:
    token = first_link(project, "catalogue", "i", language="ar")
    page = web.get(f"/i/{token}")
    assert page.status_code == 200
    assert 'lang="ar" dir="rtl"' in page.text and "عدد المشاركين" in page.text
    assert '<label for="participants">' in page.text and '<label for="comment">' in page.text


def test_a_submission_waits_for_approval(project: Project, web: FlaskClient) -> None:
    token = first_link(project, "coe_invitation", "s")
    centre_id = payload(token)["r"]
    page = web.get(f"/s/{token}")
    assert page.status_code == 200
    for name in ("title", "summary", "url", "text", "course"):
        assert f'name="{name}"' in page.text
    token_csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    text = "AFRALTI opens its 2027 spectrum monitoring lab to regulators."
    bad = web.post(f"/s/{token}", data={"csrf_token": token_csrf, "title": "Only a title"})
    assert bad.status_code == 400 and "summary" in bad.text
    ok = web.post(f"/s/{token}", data={
        "csrf_token": token_csrf, "title": "A new lab", "summary": "Our new lab opens.",
        "url": "https://afralti.example.org/news/lab", "text": text, "course": ""})
    assert ok.status_code == 200
    articles = project.run("articles", "list", "--json").json()
    assert isinstance(articles, list) and len(articles) == 1
    assert articles[0]["status"] == "submitted" and articles[0]["title"] == "A new lab"
    posts = project.run("posts", "list", "--json").json()
    assert isinstance(posts, list) and [p["status"] for p in posts] == ["submitted"]
    assert project.run("articles", "export", "--json").json() == []

    # Unapproved: nothing is posted, whatever runs.
    for day in (20, 21):
        for hour in range(7, 18):
            assert project.run("send-now", now=f"2027-01-{day}T{hour:02d}:05:00Z").code == 0
    published = [json.loads(p.read_text()) for sink in ("mastodon", "x", "linkedin")
                 for p in project.outbox(sink)]
    assert not any(text in str(p.get("text")) for p in published)

    r = project.run("posts", "approve", str(posts[0]["id"]), "--channels", "mastodon",
                    now="2027-01-21T18:00:00Z")
    assert r.code == 0, r.err
    assert "on mastodon" in r.out and " x:" not in r.out
    assert project.run("articles", "approve", str(articles[0]["id"])).code == 0
    exported = project.run("articles", "export", "--json").json()
    assert isinstance(exported, list) and exported[0]["title"] == "A new lab"
    assert exported[0]["centre"] and centre_id
    for hour in range(7, 18):
        assert project.run("send-now", now=f"2027-01-22T{hour:02d}:05:00Z").code == 0
    texts = [json.loads(p.read_text())["text"] for p in project.outbox("mastodon")]
    assert sum(text in t for t in texts) == 1
    assert not any(text in json.loads(p.read_text())["text"] for p in project.outbox("x"))


def test_a_long_post_goes_only_where_it_fits(project: Project, web: FlaskClient) -> None:
    token = first_link(project, "coe_invitation", "s")
    form = {"csrf_token": csrf(web, f"/s/{token}"), "text": "Spectrum monitoring " * 20}
    assert web.post(f"/s/{token}", data=form).status_code == 200
    post_id = project.run("posts", "list", "--json").json()[0]["id"]  # type: ignore[index]
    r = project.run("posts", "approve", str(post_id), "--channels", "x")
    assert r.code == 2 and "text: " in r.err and "'x'" in r.err and "280" in r.err
    r = project.run("posts", "approve", str(post_id))  # every enabled social channel it fits
    assert r.code == 0, r.err
    assert "on mastodon: slot" in r.out and "on linkedin: slot" in r.out
    assert f"post {post_id} not on x:" in r.out
