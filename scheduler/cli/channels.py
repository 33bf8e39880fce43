"""`herald channels`: list, validate and test the delivery channels."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler import channel_admin, queries
from scheduler.app import App
from scheduler.cli import bounces
from scheduler.cli.output import checked, show


def register(sub: Any) -> None:
    chans = sub.add_parser("channels", help="delivery channels").add_subparsers(
        dest="action", required=True)
    chl = chans.add_parser("list", help="list channels and their health")
    chl.add_argument("--json", action="store_true")
    chl.add_argument("--check", action="store_true",
                     help="exit 3 when a channel needs attention or is failing (monitoring)")
    chl.set_defaults(func=list_)
    chans.add_parser("validate", help="validate every config file").set_defaults(func=validate)
    cht = chans.add_parser("test", help="send one test message through a channel")
    cht.add_argument("name")
    cht.add_argument("--to", default=None,
                     help="recipient address (required for an email channel)")
    cht.add_argument("--dry-run", action="store_true")
    cht.set_defaults(func=test)
    chr_ = chans.add_parser("resume", help="lift a channel's pause (complaints, credentials)")
    chr_.add_argument("name")
    chr_.set_defaults(func=bounces.resume)


def validate(app: App, args: argparse.Namespace) -> int:
    print(channel_admin.validate(app))
    return 0


def list_(app: App, args: argparse.Namespace) -> int:
    show(queries.channels(app), ["name", "type", "status", "pending", "sent", "failed",
                                 "unknown", "reason"], as_json=args.json)
    return checked(queries.trouble(app) if args.check else [])


def test(app: App, args: argparse.Namespace) -> int:
    from channels.base import DeliveryStatus

    built = channel_admin.build_test(app, args.name, args.to)
    msg = built.message
    print(f"channel {args.name} ({built.channel.type}): "
          + (f"to {msg.to}: {msg.subject}" if msg.to else msg.text))
    if args.dry_run:
        built.channel.close()
        print("dry run: nothing sent")
        return 0
    result = channel_admin.send_test(app, built)
    print(f"result: {result.status.value}" + (f" id={result.provider_id}"
                                              if result.provider_id else "")
          + (f" error={result.error}" if result.error else ""))
    return 0 if result.status is DeliveryStatus.SENT else 1
