"""`send-now`'s two checks: refuse to dispatch on non-durable commits, and exit 3 on trouble."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime

from scheduler.app import App
from scheduler.durability import dispatch_refusal
from scheduler.logs import print_error
from scheduler.planner import PlanFilter, Planner
from scheduler.trouble import EXIT_TROUBLE, send_trouble


def durability_refused(app: App, args: argparse.Namespace, planner: Planner, now: datetime
                       ) -> int | None:
    """When commits are not durable (and not accepted): plan only, say why; exit code 3."""
    reason = dispatch_refusal(app.engine, app.config.settings.accept_non_durable_commits)
    if reason is None:
        return None
    report = planner.plan(now, only=PlanFilter(args.campaign, args.course, args.channel))
    if args.json:
        print(json.dumps({"planned": report.total, "dispatched": [], "refused": reason}))
    else:
        print(f"planned {report.total} new deliveries; nothing dispatched")
    print_error(reason)
    return EXIT_TROUBLE


def trouble_exit(app: App, outcome: Counter[tuple[str, str]], channel: str | None) -> int:
    """0, or 3 after naming on stderr each channel left in trouble."""
    reasons = send_trouble(app, outcome, channel)
    for reason in reasons:
        print_error(reason)
    return EXIT_TROUBLE if reasons else 0
