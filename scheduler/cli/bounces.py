"""`herald bounces fetch` and `herald channels resume NAME`."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler.app import App
from scheduler.errors import InputError


def register(subparsers: Any) -> None:
    b = subparsers.add_parser("bounces", help="the bounce and complaint mailbox").add_subparsers(
        dest="action", required=True)
    b.add_parser("fetch", help="read the bounce mailbox once").set_defaults(func=fetch)


def fetch(app: App, args: argparse.Namespace) -> int:
    from scheduler.bounces.intake import fetch as fetch_mailbox

    with app.sessions() as s:
        counts = fetch_mailbox(s, app.config, app.signing_keys, app.clock())
    order = ("bounce_hard", "bounce_soft", "bounce_policy", "complaint", "ignored", "unparsed")
    print("  ".join(f"{k}: {counts.get(k, 0)}" for k in order))
    for key in sorted(k for k in counts if k.startswith("paused:")):
        name = key.split(":", 1)[1]
        print(f"channel {name} paused: complaint rate too high "
              f"(`herald channels resume {name}` once dealt with)")
    return 3 if any(k.startswith("paused:") for k in counts) else 0


def resume(app: App, args: argparse.Namespace) -> int:
    from scheduler.reporting.reputation import resume as lift

    if args.name not in app.config.channels:
        raise InputError([f"channels: no channel named '{args.name}'"])
    with app.sessions() as s, s.begin():
        lifted = lift(s, app.config, args.name, app.clock())
    print(f"channel {args.name}: " + ("resumed" if lifted else "was not paused"))
    return 0
