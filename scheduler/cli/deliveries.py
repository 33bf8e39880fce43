"""`herald deliveries`: the outbox, and the operator's retry and cancel decisions."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler import outbox, queries
from scheduler.app import App
from scheduler.cli.output import show


def register(sub: Any) -> None:
    dl = sub.add_parser("deliveries", help="the outbox").add_subparsers(
        dest="action", required=True)
    dll = dl.add_parser("list", help="list deliveries, newest first")
    dll.add_argument("--state")
    dll.add_argument("--channel")
    dll.add_argument("--campaign")
    dll.add_argument("--limit", type=int, default=200,
                     help="show at most this many (default 200)")
    dll.add_argument("--json", action="store_true")
    dll.set_defaults(func=list_)
    for name, fn, text in (("retry", retry, "send a failed/unknown one again"),
                           ("cancel", cancel, "never send it")):
        a = dl.add_parser(name, help=text)
        a.add_argument("id", type=int)
        a.set_defaults(func=fn)


def list_(app: App, args: argparse.Namespace) -> int:
    page = queries.deliveries(app, state=args.state, channel=args.channel,
                              campaign=args.campaign, limit=args.limit)
    show(page.rows, ["id", "state", "channel", "recipient", "due_at", "attempts", "key",
                     "error"], as_json=args.json, total=page.total)
    return 0


def retry(app: App, args: argparse.Namespace) -> int:
    before, after = outbox.operator_retry(app.sessions, args.id, app.clock())
    print(f"delivery {args.id}: {before} → {after}")
    return 0


def cancel(app: App, args: argparse.Namespace) -> int:
    before, after = outbox.operator_cancel(app.sessions, args.id, app.clock())
    print(f"delivery {args.id}: {before} → {after}")
    return 0
