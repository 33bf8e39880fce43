"""`herald courses`: import and list the course catalogue."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scheduler import queries
from scheduler.app import App
from scheduler.cli.output import dump_json, show


def register(sub: Any) -> None:
    courses = sub.add_parser("courses", help="the course catalogue").add_subparsers(
        dest="action", required=True)
    ci = courses.add_parser("import", help="import courses from a CSV, JSON or iCalendar file/URL")
    ci.add_argument("source")
    ci.add_argument("--format", choices=["csv", "json", "ical"], default=None)
    ci.add_argument("--timeout", type=float, default=60.0,
                    help="abandon a URL whose whole download takes longer (seconds; default 60)")
    ci.add_argument("--json", action="store_true",
                    help="print the summary as JSON (course ids by what was done), no progress")
    ci.set_defaults(func=import_)
    cl = courses.add_parser("list", help="list courses")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=list_)


def import_(app: App, args: argparse.Namespace) -> int:
    from scheduler.cli.progress import importing
    from scheduler.ingest.source import read_source
    from scheduler.ingest.store import import_courses

    _fmt, records = read_source(args.source, fmt=args.format, timeout=args.timeout)
    with importing("courses import", len(records), sys.stderr, args.json) as on_rows, \
            app.sessions() as s, s.begin():
        summary = import_courses(s, records, now=app.clock(), on_rows=on_rows)
    if args.json:
        dump_json({label: getattr(summary, label)
                   for label in ("added", "updated", "unchanged", "cancelled")})
        return 0
    for label in ("added", "updated", "unchanged", "cancelled"):
        ids = getattr(summary, label)
        print(f"{label}: {len(ids)}" + (f"  ({', '.join(ids[:10])}"
                                         f"{', …' if len(ids) > 10 else ''})" if ids
                                         and label != "unchanged" else ""))
    return 0


def list_(app: App, args: argparse.Namespace) -> int:
    show(queries.courses(app), ["id", "start_date", "registration_deadline", "region", "mode",
                                "status", "title"], as_json=args.json)
    return 0
