"""`herald posts`: centre-submitted posts, submitted, listed, approved or rejected."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scheduler import submissions
from scheduler.app import App
from scheduler.cli.output import show


def register(sub: Any) -> None:
    posts = sub.add_parser("posts", help="centre-submitted posts").add_subparsers(
        dest="action", required=True)
    ps = posts.add_parser("submit", help="submit a post (YAML or JSON file)")
    ps.add_argument("file", type=Path)
    ps.set_defaults(func=submit)
    pls = posts.add_parser("list", help="list submitted posts")
    pls.add_argument("--json", action="store_true")
    pls.set_defaults(func=list_)
    for name, fn, text in (("approve", approve, "approve: slot it on its channels"),
                           ("reject", reject, "reject: never post it")):
        a = posts.add_parser(name, help=text)
        a.add_argument("id", type=int)
        if name == "approve":
            a.add_argument("--channels", default=None,
                           help="comma-separated channel names (default: the post's own, "
                                "else every enabled social channel it fits)")
        a.set_defaults(func=fn)


def submit(app: App, args: argparse.Namespace) -> int:
    post = submissions.submit(app, args.file)
    print(f"post {post.id} submitted for {', '.join(post.channels)}; "
          f"awaiting approval (`herald posts approve {post.id}`)")
    return 0


def list_(app: App, args: argparse.Namespace) -> int:
    show(submissions.list_posts(app),
         ["id", "status", "channels", "submitted_by", "earliest", "text"], as_json=args.json)
    return 0


def approve(app: App, args: argparse.Namespace) -> int:
    chosen = [c.strip() for c in (args.channels or "").split(",") if c.strip()]
    post, slots = submissions.decide(app, args.id, approve=True, channels=chosen or None)
    for ch, slot in slots:
        if slot.startswith("not posted"):
            print(f"post {post.id} not on {ch}: {slot.removeprefix('not posted: ')}")
        else:
            print(f"post {post.id} on {ch}: slot {slot}")
    return 0


def reject(app: App, args: argparse.Namespace) -> int:
    post, _ = submissions.decide(app, args.id, approve=False)
    print(f"post {post.id} rejected; it will never be posted")
    return 0
