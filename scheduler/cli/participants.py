"""`herald participants`: import and list interest profiles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scheduler import queries
from scheduler.app import App
from scheduler.cli import participants_admin
from scheduler.cli.output import dump_json, show
from scheduler.errors import InputError


def register(sub: Any) -> None:
    parts = sub.add_parser("participants", help="interest profiles").add_subparsers(
        dest="action", required=True)
    pi = parts.add_parser("import", help="import participants from CSV")
    pi.add_argument("file", type=Path)
    pi.add_argument("--strict", action="store_true",
                    help="refuse a topic no course has and no synonym maps (config/topics.yaml)")
    pi.add_argument("--json", action="store_true",
                    help="print the summary (and warnings) as JSON, no progress")
    pi.set_defaults(func=import_)
    pl = parts.add_parser("list", help="list participants")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--status", default=None)
    pl.set_defaults(func=list_)
    participants_admin.add_commands(parts)  # unsubscribe, suppress, export, erase


def import_(app: App, args: argparse.Namespace) -> int:
    from scheduler.cli.progress import importing
    from scheduler.db_stats import after_import
    from scheduler.participants import import_participants, read_participants_csv
    from scheduler.topics import resolve_topics, vocabulary

    records = read_participants_csv(args.file)
    with app.sessions() as s, s.begin():
        records, unknown = resolve_topics(records, vocabulary(s, app.config_dir), str(args.file))
        if unknown and args.strict:
            raise InputError(unknown)
        with importing("participants import", len(records), sys.stderr, args.json) as on_rows:
            summary = import_participants(s, records, now=app.clock(), on_rows=on_rows)
    after_import(app.engine, len(summary.added) + len(summary.updated))
    if args.json:
        dump_json({"added": len(summary.added), "updated": len(summary.updated),
                   "unchanged": len(summary.unchanged), "skipped": len(summary.skipped),
                   "warnings": unknown})
        return 0
    for line in unknown:
        print(f"warning: {line}", file=sys.stderr)
    for label in ("added", "updated", "unchanged"):
        print(f"{label}: {len(getattr(summary, label))}")
    if summary.skipped:
        print(f"skipped (erased, never imported again): {len(summary.skipped)}: "
              + ", ".join(summary.skipped))
    return 0


def list_(app: App, args: argparse.Namespace) -> int:
    show(queries.participants(app, args.status),
         ["id", "email", "language", "frequency", "status", "topics"], as_json=args.json)
    return 0
