"""`herald report`: the performance report as a table, JSON, CSV or an HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scheduler.app import App
from scheduler.cli.output import dump_json, print_table
from scheduler.reporting import service
from scheduler.reporting.metrics import parse_by, parse_day


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="the performance report (activity 12)")
    p.add_argument("--since", help="first day included (ISO date)")
    p.add_argument("--until", help="first day excluded (ISO date)")
    p.add_argument("--by", help="group by: channel,campaign,region,centre,course "
                                "(also language, month)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write the rows as CSV")
    p.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report")
    p.add_argument("--lang", default="en", help="the HTML report's language (default en)")
    p.set_defaults(func=run)


def run(app: App, args: argparse.Namespace) -> int:
    since, until = parse_day(args.since, "--since"), parse_day(args.until, "--until")
    by = parse_by(args.by)
    if args.html:
        from scheduler.reporting.html import check_language, write_html

        check_language(args.lang)
    report = service.make_report(app, by=by, since=since, until=until)
    if args.csv:
        service.write_csv(report, args.csv)
    if args.html:
        write_html(app, args.html, since=since, until=until, lang=args.lang)
    if args.json:
        dump_json(report.as_json())
        return 0
    if args.csv or args.html:
        for path in (args.csv, args.html):
            if path:
                print(f"wrote {path}")
    else:
        rows = [*report.rows, {**({by[0]: "TOTAL"} if by else {}), **report.totals}]
        print_table([{k: service.fmt(k, v) for k, v in r.items()} for r in rows],
                    [*by, *service.TABLE_METRICS])
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
