"""`herald plan`, `herald send-now` and `herald run`: planning and dispatching."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from scheduler import send_now as passes
from scheduler.app import App
from scheduler.cli.output import checked, dump_json, print_table


def register(sub: Any) -> None:
    plan_ = sub.add_parser("plan", help="plan due messages into the outbox and show what is due")
    plan_.add_argument("--json", action="store_true")
    plan_.add_argument("--dry-run", action="store_true")
    plan_.set_defaults(func=plan)

    sn = sub.add_parser("send-now", help="plan and dispatch everything due now, then exit")
    sn.add_argument("--campaign")
    sn.add_argument("--course")
    sn.add_argument("--channel")
    sn.add_argument("--dry-run", action="store_true")
    sn.add_argument("--json", action="store_true")
    sn.set_defaults(func=send_now)

    run_ = sub.add_parser("run", help="the daemon")
    run_.add_argument("--http-port", type=int, default=None,
                      help="serve /healthz and /metrics on this port (default: settings.yaml"
                           " http.port, 9464; 0 = off)")
    run_.set_defaults(func=run)


def _recipients(app: App) -> list[dict[str, Any]]:
    """Who gets which catalogue and invitation email (pending and retrying)."""
    from scheduler.planning.admin_view import admin_queue

    with app.sessions() as s:
        return admin_queue(s)


def plan(app: App, args: argparse.Namespace) -> int:
    report = passes.plan(app, dry_run=args.dry_run)
    recipients = _recipients(app)
    if args.json:
        dump_json({"now": report.now.isoformat(), "dry_run": report.dry_run,
                   "planned": report.planned, "queue": report.queue, "posts": report.posts,
                   "cadence": report.cadence,
                   "recipients": recipients})
        return 0
    verb = "would plan" if args.dry_run else "planned"
    print(f"{verb} {report.total} new deliveries at {report.now.isoformat()}")
    print_table(report.planned, ["campaign", "channel", "planned"])
    print("\noutbox (pending and retrying):")
    print_table(report.queue, ["campaign", "channel", "state", "count", "next_due"])
    if report.cadence:
        print("\nheld back by cadence (per person; goes with their next allowed email):")
        print_table([{**c, "courses": " ".join(c["courses"])} for c in report.cadence],
                    ["participant", "held", "goes_at", "why", "courses"])
    if recipients:
        print("\ncatalogue and centre emails (who gets what):")
        print_table(recipients, ["campaign", "kind", "to", "organisation", "due_at"])
    if report.posts:
        print("\nposting calendar:")
        print_table(report.posts, ["slot", "channel", "length", "limit", "text"])
    return 0


def send_now(app: App, args: argparse.Namespace) -> int:
    scope = passes.Scope(args.campaign, args.course, args.channel)
    if args.dry_run:
        preview = passes.preview(app, scope)
        if args.json:
            dump_json({"dry_run": True, "would_plan": preview.total, "due": preview.queue})
            return 0
        print(f"dry run: would plan {preview.total} new deliveries; nothing sent")
        print_table(preview.planned, ["campaign", "channel", "planned"])
        print("already due in the outbox:")
        print_table(preview.queue, ["campaign", "channel", "state", "count"])
        return 0
    report = passes.send_now(app, scope, None if args.json else progress_for(sys.stderr))
    if args.json:
        doc: dict[str, Any] = {"planned": report.planned, "dispatched": report.dispatched}
        if report.recovered_unknown:
            doc["recovered_unknown"] = report.recovered_unknown
        if report.trouble:
            doc["trouble"] = report.trouble
        dump_json(doc)
        return checked(report.trouble)
    if report.recovered_unknown:
        print(f"recovered: {report.recovered_unknown} deliveries interrupted mid-send are now "
              "'unknown' (see `herald deliveries list --state unknown`)")
    print(f"planned {report.planned} new deliveries")
    print(f"dispatched {report.total}:")
    reasons = ["reason"] if any("reason" in row for row in report.dispatched) else []
    print_table(report.dispatched, ["channel", "state", "count", "deliveries", *reasons])
    return checked(report.trouble)


def progress_for(stream: TextIO) -> passes.Progress:
    """Bars on a terminal, log lines (with `-v`) otherwise."""
    from scheduler.cli.progress import BarProgress, LogProgress

    return BarProgress() if stream.isatty() else LogProgress()


def run(app: App, args: argparse.Namespace) -> int:
    from scheduler.daemon import run as run_daemon

    return run_daemon(app, getattr(args, "http_port", None))
