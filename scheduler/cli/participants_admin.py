"""`herald participants unsubscribe|suppress|export|erase EMAIL`: a person's rights, for
the operator. `add_commands(participants)` adds them to the `participants` group."""

from __future__ import annotations

import argparse
from typing import Any

from scheduler import privacy
from scheduler.app import App
from scheduler.cli.output import dump_json


def add_commands(participants: Any) -> None:
    """Add the commands to the `participants` group's subparsers."""
    u = participants.add_parser("unsubscribe", help="unsubscribe a person; cancel what is "
                                                    "pending to them")
    u.add_argument("email")
    u.set_defaults(func=unsubscribe)
    s = participants.add_parser("suppress", help="never email this address again")
    s.add_argument("email")
    s.add_argument("--reason", default="operator", help="why (kept with the entry)")
    s.set_defaults(func=suppress)
    e = participants.add_parser("export", help="everything held on a person, as JSON")
    e.add_argument("email")
    e.set_defaults(func=export)
    x = participants.add_parser("erase", help="erase a person (GDPR): no address left in "
                                              "clear; history kept under a pseudonym")
    x.add_argument("email")
    x.set_defaults(func=erase)


def unsubscribe(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s, s.begin():
        cancelled = privacy.unsubscribe(s, args.email, now=app.clock())
    print(f"unsubscribed; {cancelled} pending deliveries cancelled")
    return 0


def suppress(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s, s.begin():
        cancelled = privacy.suppress(s, args.email, now=app.clock(), reason=args.reason)
    print(f"suppressed; {cancelled} pending deliveries will not be sent")
    return 0


def export(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s:
        document = privacy.export(s, args.email)
    dump_json(document)
    return 0


def erase(app: App, args: argparse.Namespace) -> int:
    with app.sessions() as s, s.begin():
        known = privacy.erase(s, args.email, now=app.clock())
    privacy.scrub(app.engine)
    print("erased; a hashed suppression keeps the address from being imported again"
          if known else
          "no participant had this address; a hashed suppression now keeps it from being "
          "imported")
    return 0
