"""`herald interest list [--json] [--course ID] [--centre NAME] [--csv FILE]`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scheduler.app import App
from scheduler.cli.output import dump_json, print_table


def register(sub: Any) -> None:
    group = sub.add_parser("interest", help="expressions of interest from catalogue emails"
                           ).add_subparsers(dest="action", required=True)
    lst = group.add_parser("list", help="the standing answers, one per contact and course")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--course", default=None, help="only this course id")
    lst.add_argument("--centre", default=None, help="only this centre's courses")
    lst.add_argument("--csv", type=Path, default=None, help="also write them to this CSV file")
    lst.set_defaults(func=interest_list)


def interest_list(app: App, args: argparse.Namespace) -> int:
    from scheduler.interest import list_interests, write_csv

    with app.sessions() as s:
        rows = list_interests(s, course=args.course, centre=args.centre)
    if args.csv is not None:
        write_csv(rows, args.csv)
    if args.json:
        dump_json(rows)
    elif args.csv is not None:
        print(f"{len(rows)} answer(s) written to {args.csv}")
    else:
        print_table(rows, ["course", "centre", "organisation", "email", "participants",
                           "comment"], width=40)
    return 0
