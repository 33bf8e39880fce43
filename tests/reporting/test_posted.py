"""Social posts are `posted` events, and the report counts them per network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import select

from scheduler.models import DeliveryEvent
from tests.conftest import Project
from tests.dispatch.test_dispatch_smtp import COURSES, NOW

MASTODON = "https://mastodon.test"
BLUESKY = "https://pds.test"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
CHANNELS = f"""
channels:
  mastodon:
    type: mastodon
    base_url: {MASTODON}
    token: ${{MASTODON_TOKEN}}
  bluesky:
    type: bluesky
    base_url: {BLUESKY}
    identifier: itu-academy.bsky.social
    app_password: ${{BLUESKY_APP_PASSWORD}}
"""
CAMPAIGNS = """
campaigns:
  social_announce:
    kind: course_post
    channels: [mastodon, bluesky]
    template: social/announce
    timing: on_publish
"""


def fake_networks(rsps: responses.RequestsMock) -> dict[str, list[str]]:
    """Mastodon and Bluesky as their APIs answer a post; the ids each gave, by network."""
    given: dict[str, list[str]] = {"mastodon": [], "bluesky": []}

    def status(request: Any) -> tuple[int, dict[str, str], str]:
        given["mastodon"].append(str(110_000 + len(given["mastodon"])))
        sid = given["mastodon"][-1]
        return 200, {}, json.dumps({"id": sid, "url": f"{MASTODON}/@itu/{sid}",
                                    "uri": f"{MASTODON}/users/itu/statuses/{sid}",
                                    "content": "<p>…</p>", "created_at": NOW})

    def record(request: Any) -> tuple[int, dict[str, str], str]:
        given["bluesky"].append(f"at://{DID}/app.bsky.feed.post/3l6ove{len(given['bluesky'])}")
        return 200, {}, json.dumps({"uri": given["bluesky"][-1], "cid": "bafyrei"})

    rsps.add_callback(responses.POST, f"{MASTODON}/api/v1/statuses", callback=status)
    rsps.add(responses.POST, f"{BLUESKY}/xrpc/com.atproto.server.createSession",
             json={"did": DID, "handle": "itu-academy.bsky.social",
                   "accessJwt": "eyJ.access", "refreshJwt": "eyJ.refresh"})
    rsps.add_callback(responses.POST, f"{BLUESKY}/xrpc/com.atproto.repo.createRecord",
                      callback=record)
    return given


@pytest.fixture
def social(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-token")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop")
    project.write_config("channels.yaml", CHANNELS)
    project.write_config("campaigns.yaml", CAMPAIGNS)
    (tmp_path / "c.csv").write_text(COURSES)
    assert project.run("courses", "import", "c.csv", now=NOW).code == 0
    return project


def test_posts_are_posted_events_counted_per_network(social: Project) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        given = fake_networks(rsps)
        r = social.run("send-now", "--json", now=NOW)
        assert r.code == 0, r.err
    assert (len(given["mastodon"]), len(given["bluesky"])) == (2, 2)  # courses A1 and A2
    # send-now's summary counts the posts' deliveries from their `posted` events.
    summary = r.json()
    assert isinstance(summary, dict)
    assert sorted((row["channel"], row["state"], row["count"], row.get("deliveries"))
                  for row in summary["dispatched"]) == [("bluesky", "sent", 2, 2),
                                                  ("mastodon", "sent", 2, 2)]
    engine = social.engine()
    with engine.connect() as c:
        kinds = c.execute(select(DeliveryEvent.type, DeliveryEvent.channel,
                                 DeliveryEvent.message)).all()
    engine.dispose()
    assert sorted(kinds) == sorted(
        [("posted", "mastodon", i) for i in given["mastodon"]]
        + [("posted", "bluesky", i) for i in given["bluesky"]])

    doc = social.run("report", "--json", "--by", "channel", now=NOW).json()
    assert isinstance(doc, dict)
    per_network = {r["channel"]: (r["posts"], r["sent"], r["emails"]) for r in doc["rows"]}
    assert per_network == {"mastodon": (2, 2, 0), "bluesky": (2, 2, 0)}
    assert (doc["totals"]["posts"], doc["totals"]["sent"], doc["totals"]["emails"]) == (4, 4, 0)

    out = social.run("report", "--html", "r.html", now=NOW)
    assert out.code == 0, out.err
    page = (social.root / "r.html").read_text(encoding="utf-8")
    social_section = page.split('id="s-social"')[1].split("</section>")[0]
    assert ">mastodon<" in social_section and ">bluesky<" in social_section


def status_json(sid: str, likes: int, boosts: int, replies: int) -> dict[str, Any]:
    """A Mastodon Status entity (GET /api/v1/statuses/:id), its public counts set."""
    return {"id": sid, "created_at": NOW, "in_reply_to_id": None, "sensitive": False,
            "spoiler_text": "", "visibility": "public", "language": "en",
            "uri": f"{MASTODON}/users/itu/statuses/{sid}", "url": f"{MASTODON}/@itu/{sid}",
            "replies_count": replies, "reblogs_count": boosts, "favourites_count": likes,
            "content": "<p>…</p>", "account": {"id": "1", "username": "itu", "acct": "itu"},
            "media_attachments": [], "mentions": [], "tags": [], "emojis": []}


def post_view(uri: str, likes: int, reposts: int, replies: int) -> dict[str, Any]:
    """An app.bsky.feed.defs#postView as app.bsky.feed.getPosts returns it."""
    return {"uri": uri, "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5",
            "author": {"did": DID, "handle": "itu-academy.bsky.social"},
            "record": {"$type": "app.bsky.feed.post", "text": "…", "createdAt": NOW},
            "replyCount": replies, "repostCount": reposts, "likeCount": likes,
            "quoteCount": 0, "indexedAt": NOW}


def test_engagement_of_mastodon_and_bluesky_posts_is_recorded_as_changes(
    social: Project,
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from scheduler.engagement import BLUESKY_APPVIEW

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        given = fake_networks(rsps)
        assert social.run("send-now", now=NOW).code == 0
    toots, skeets = given["mastodon"], given["bluesky"]
    counts = {toots[0]: (3, 1, 0), toots[1]: (0, 0, 0), skeets[0]: (5, 2, 1),
              skeets[1]: (1, 0, 0)}
    asked: list[list[str]] = []

    def fake_counts(rsps: responses.RequestsMock) -> None:
        for sid in toots:
            rsps.add(responses.GET, f"{MASTODON}/api/v1/statuses/{sid}",
                     json=status_json(sid, *counts[sid]))

        def get_posts(request: Any) -> tuple[int, dict[str, str], str]:
            uris = parse_qs(urlsplit(request.url).query)["uris"]
            asked.append(uris)
            return 200, {}, json.dumps({"posts": [post_view(u, *counts[u]) for u in uris]})

        rsps.add_callback(responses.GET, f"{BLUESKY_APPVIEW}/xrpc/app.bsky.feed.getPosts",
                          callback=get_posts)

    with responses.RequestsMock() as rsps:
        fake_counts(rsps)
        r = social.run("engagement", "fetch", now="2027-01-12T09:00:00Z")
    assert r.code == 0, r.err
    assert "posts: 4  events: 6  unreadable: 0" in r.out
    assert asked == [skeets]  # one call for both posts

    # A day later: more likes on one toot, one like taken back on Bluesky.
    counts[toots[0]] = (7, 1, 0)
    counts[skeets[1]] = (0, 0, 0)
    with responses.RequestsMock() as rsps:
        fake_counts(rsps)
        r = social.run("engagement", "fetch", now="2027-01-13T09:00:00Z")
    assert "posts: 4  events: 2  unreadable: 0" in r.out

    doc = social.run("report", "--json", "--by", "channel", now="2027-01-13T10:00:00Z").json()
    assert isinstance(doc, dict)
    rows = {r["channel"]: (r["likes"], r["reposts"], r["replies"]) for r in doc["rows"]}
    assert rows == {"mastodon": (7, 1, 0), "bluesky": (5, 2, 1)}
    assert doc["totals"]["posts"] == 4 and doc["totals"]["sent"] == 4
    gained = social.run("report", "--json", "--since", "2027-01-13", now="2027-01-13T10:00:00Z")
    totals = gained.json()["totals"]  # type: ignore[index]
    assert (totals["likes"], totals["reposts"], totals["sent"]) == (3, 0, 0)

    out = social.run("report", "--html", "r.html", now="2027-01-13T10:00:00Z")
    assert out.code == 0, out.err
    page = (social.root / "r.html").read_text(encoding="utf-8")
    assert "Likes" in page.split('id="s-social"')[1].split("</section>")[0]
