"""Per-post engagement: the public counts of Herald's Mastodon and Bluesky posts, as events.

`herald engagement fetch` reads, for every post published in the last `days` on a
`mastodon` or `bluesky` channel, what the network shows anyone: Mastodon's
`GET /api/v1/statuses/:id` (`favourites_count`, `reblogs_count`, `replies_count`) and
Bluesky's public `app.bsky.feed.getPosts` (`likeCount`, `repostCount`, `replyCount`; 25
posts a call). Each count that changed since the last fetch is appended to the event log
as an `engagement` event of category `likes`, `reposts` or `replies` whose `amount` is the
change, so the report's sums are the latest counts, and a period's sums what it gained.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.config import HeraldConfig
from scheduler.models import Delivery, DeliveryEvent, DeliveryState

KINDS = ("likes", "reposts", "replies")
FIELDS = {"mastodon": ("favourites_count", "reblogs_count", "replies_count"),
          "bluesky": ("likeCount", "repostCount", "replyCount")}
BLUESKY_APPVIEW = "https://public.api.bsky.app"
"""Bluesky's public AppView: getPosts there needs no session."""
BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs


@dataclass(frozen=True)
class Post:
    delivery_id: int
    channel: str
    provider_id: str


def published(session: Session, config: HeraldConfig, since: datetime) -> list[Post]:
    """Posts sent on a mastodon or bluesky channel since `since`, with the network's id."""
    names = [n for n, ch in config.channels.items() if ch.type in FIELDS]
    if not names:
        return []
    rows = session.execute(select(Delivery.id, Delivery.channel, Delivery.provider_id).where(
        Delivery.channel.in_(names), Delivery.kind.like("%post"),
        Delivery.state == DeliveryState.SENT.value, Delivery.provider_id.is_not(None),
        Delivery.sent_at >= since).order_by(Delivery.id))
    return [Post(i, ch, str(pid)) for i, ch, pid in rows]


def _counts(body: Mapping[str, Any], network: str) -> dict[str, int]:
    return {kind: int(body.get(name) or 0) for kind, name in zip(KINDS, FIELDS[network],
                                                                  strict=True)}


def _mastodon(http: requests.Session, options: Any, posts: list[Post]
              ) -> Iterable[tuple[Post, dict[str, int] | None]]:
    headers = {"Authorization": f"Bearer {options.token.get_secret_value()}"}
    for post in posts:
        r = http.get(f"{options.base_url}/api/v1/statuses/{post.provider_id}", headers=headers,
                     timeout=options.timeout, verify=options.ca_file or True)
        yield post, _counts(r.json(), "mastodon") if r.ok else None


def _bluesky(http: requests.Session, options: Any, posts: list[Post]
             ) -> Iterable[tuple[Post, dict[str, int] | None]]:
    for start in range(0, len(posts), BATCH):
        batch = posts[start:start + BATCH]
        r = http.get(f"{BLUESKY_APPVIEW}/xrpc/app.bsky.feed.getPosts",
                     params=[("uris", p.provider_id) for p in batch], timeout=options.timeout)
        found = {v.get("uri"): v for v in (r.json().get("posts") or [])} if r.ok else {}
        for post in batch:
            view = found.get(post.provider_id)
            yield post, _counts(view, "bluesky") if view is not None else None


def record(session: Session, post: Post, counts: Mapping[str, int], now: datetime) -> int:
    """Append the changes since the counts last recorded; how many events were added."""
    e = DeliveryEvent
    before = {kind: int(total) for kind, total in session.execute(
        select(e.category, func.coalesce(func.sum(e.amount), 0))
        .where(e.delivery_id == post.delivery_id, e.type == "engagement")
        .group_by(e.category))}
    added = 0
    for kind in KINDS:
        change = counts[kind] - before.get(kind, 0)
        if change:
            events.record(session, "engagement", delivery_id=post.delivery_id, at=now,
                          category=kind, amount=change)
            added += 1
    return added


def fetch(session: Session, config: HeraldConfig, now: datetime, days: int = 30
          ) -> Counter[str]:
    """Read every recent post's counts once; by outcome: posts read, events, unreadable."""
    out: Counter[str] = Counter()
    by_channel: dict[str, list[Post]] = {}
    with session.begin():
        for post in published(session, config, now - timedelta(days=days)):
            by_channel.setdefault(post.channel, []).append(post)
    with requests.Session() as http:
        for name, posts in by_channel.items():
            channel = config.channels[name]
            read = _mastodon if channel.type == "mastodon" else _bluesky
            try:
                results = list(read(http, channel.build().options, posts))
            except (requests.RequestException, ValueError):
                out["unreadable"] += len(posts)
                continue
            with session.begin():
                for post, counts in results:
                    if counts is None:
                        out["unreadable"] += 1
                        continue
                    out["posts"] += 1
                    out["events"] += record(session, post, counts, now)
    return out
