"""`herald centres import FILE` · `herald centres list [--json]`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scheduler.app import App
from scheduler.cli.output import print_import_summary, show


def register(sub: Any) -> None:
    group = sub.add_parser("centres", help="training centres and their focal points"
                           ).add_subparsers(dest="action", required=True)
    imp = group.add_parser("import", help="import centres from CSV (upsert by name)")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=centres_import)
    lst = group.add_parser("list", help="list centres")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=centres_list)


def centres_import(app: App, args: argparse.Namespace) -> int:
    from scheduler.centres import import_centres_file

    with app.sessions() as s, s.begin():
        summary = import_centres_file(s, args.file)
    print_import_summary("centres", summary)
    return 0


def centres_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.centres import list_centres

    with app.sessions() as s:
        rows = list_centres(s)
    show(rows, ["id", "name", "region", "focal_point_email", "language", "website"],
         as_json=args.json, width=40)
    return 0
