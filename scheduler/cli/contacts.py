"""`herald contacts import FILE` · `herald contacts list [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scheduler.app import App
from scheduler.cli.output import print_import_summary, show


def register(sub: Any) -> None:
    group = sub.add_parser("contacts", help="HR focal points of administrations").add_subparsers(
        dest="action", required=True)
    imp = group.add_parser("import", help="import contacts from CSV (upsert by email)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=contacts_import)
    lst = group.add_parser("list", help="list contacts")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=contacts_list)


def contacts_import(app: App, args: argparse.Namespace) -> int:
    from scheduler.contacts import import_contacts

    with app.sessions() as s, s.begin():
        summary = import_contacts(s, args.file, app.clock())
    print_import_summary("contacts", summary)
    return 0


def contacts_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.contacts import list_contacts

    with app.sessions() as s:
        rows = list_contacts(s)
    show(rows, ["id", "email", "name", "organisation", "region", "focus_areas", "language",
                "status"], as_json=args.json, width=40)
    return 0
