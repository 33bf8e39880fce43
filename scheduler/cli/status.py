"""`herald status`: the outbox, channels needing attention, recent events, daemon ticks."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from scheduler import queries
from scheduler.app import App
from scheduler.cli.output import checked, dump_json, print_table


def register(sub: Any) -> None:
    st = sub.add_parser("status", help="queue, channels needing attention, daemon heartbeats")
    st.add_argument("--json", action="store_true")
    st.add_argument("--check", action="store_true",
                    help="exit 3 when a channel needs attention or is failing (monitoring)")
    st.set_defaults(func=status)


def _when(value: datetime | None, now: datetime, *, ahead: bool = False) -> str:
    """`value` relative to now; a time `ahead` (a next run) already past reads `due now`."""
    if value is None:
        return "never"
    secs = int((value - now).total_seconds())
    if secs >= 0:
        return f"in {secs}s"
    return "due now" if ahead else f"{-secs}s ago"


def status(app: App, args: argparse.Namespace) -> int:
    doc = queries.status(app, app.clock())
    problems = queries.trouble(app) if args.check else []
    if args.json:
        dump_json(doc)
        return checked(problems)
    now = doc["now"]
    for warning in doc["warnings"]:
        print(f"WARNING: {warning}")
    print("Queue (deliveries by channel and state):")
    print_table([{"channel": ch, **st} for ch, st in doc["queue"].items()],
                ["channel", *doc["totals"].keys()])
    print(f"\nUnknown (interrupted mid-send; decide with `herald deliveries retry/cancel`): "
          f"{doc['unknown']}")
    print("\nChannels needing attention:")
    print_table(doc["channels_needing_attention"], ["channel", "since", "reason"])
    if not doc["durability"]["dispatching"]:
        print(f"\nNot dispatching: database commits are not durable: "
              f"{doc['durability']['problem']} (settings.yaml accept_non_durable_commits)")
    if doc["unplannable_courses"]:
        print("\nCourses skipped by planning (fix or cancel them):")
        print_table(doc["unplannable_courses"], ["campaign", "course", "reason"])
    print("\nDaemons:")
    rows = []
    for d in doc["daemons"]:
        for j in d["jobs"]:
            rows.append({"owner": d["owner"] + (" (stale)" if d["stale"] else ""),
                         "job": j["job"], "last ok": _when(j["last_ok_at"], now),
                         "next run": _when(j["next_run_at"], now, ahead=True)})
    print_table(rows, ["owner", "job", "last ok", "next run"])
    print("\nRecent events:")
    print_table(doc["recent_events"], ["at", "delivery", "channel", "type", "detail"])
    return checked(problems)
