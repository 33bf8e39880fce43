"""`herald engagement fetch`: the public counts of recent Mastodon and Bluesky posts."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler.app import App


def register(subparsers: Any) -> None:
    e = subparsers.add_parser("engagement", help="likes, reposts and replies of the posts"
                              ).add_subparsers(dest="action", required=True)
    f = e.add_parser("fetch", help="read the counts of recent Mastodon and Bluesky posts once")
    f.add_argument("--days", type=int, default=30,
                   help="posts published within this many days (default 30)")
    f.set_defaults(func=fetch)


def fetch(app: App, args: argparse.Namespace) -> int:
    from scheduler.engagement import fetch as fetch_counts

    with app.sessions() as s:
        counts = fetch_counts(s, app.config, app.clock(), days=args.days)
    print("  ".join(f"{k}: {counts.get(k, 0)}" for k in ("posts", "events", "unreadable")))
    return 0
