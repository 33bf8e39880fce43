"""`herald`: parses arguments, calls the services, prints. Exit 0 ok, 2 bad input, 1 failure."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from scheduler import commands, status
from scheduler.app import App
from scheduler.cli import groups
from scheduler.errors import InputError
from scheduler.logs import print_error, set_error_format, wants_json

log = logging.getLogger("herald")


def parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--now: '{text}' is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--now: '{text}' needs a time zone, e.g. Z")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="herald", description="CoE Herald: course promotion.")
    p.add_argument("--config-dir", type=Path,
                   default=Path(os.environ.get("HERALD_CONFIG_DIR", "config")),
                   help="configuration folder (env HERALD_CONFIG_DIR; default ./config)")
    p.add_argument("--db", default=None,
                   help="database URL (env HERALD_DATABASE_URL; default sqlite:///var/herald.db)")
    p.add_argument("--now", type=parse_now, default=None,
                   help="act as if it were this ISO 8601 time (previews and tests)")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    p.add_argument("--log-format", choices=["text", "json"], default="text")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(
        func=commands.db_upgrade)

    courses = sub.add_parser("courses", help="the course catalogue").add_subparsers(
        dest="action", required=True)
    ci = courses.add_parser("import", help="import courses from a CSV, JSON or iCalendar file/URL")
    ci.add_argument("source")
    ci.add_argument("--format", choices=["csv", "json", "ical"], default=None)
    ci.add_argument("--timeout", type=float, default=60.0,
                    help="abandon a URL whose whole download takes longer (seconds; default 60)")
    ci.set_defaults(func=commands.courses_import)
    cl = courses.add_parser("list", help="list courses")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=commands.courses_list)

    parts = sub.add_parser("participants", help="interest profiles").add_subparsers(
        dest="action", required=True)
    pi = parts.add_parser("import", help="import participants from CSV")
    pi.add_argument("file", type=Path)
    pi.set_defaults(func=commands.participants_import)
    pl = parts.add_parser("list", help="list participants")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--status", default=None)
    pl.set_defaults(func=commands.participants_list)

    chans = sub.add_parser("channels", help="delivery channels").add_subparsers(
        dest="action", required=True)
    chl = chans.add_parser("list", help="list channels and their health")
    chl.add_argument("--json", action="store_true")
    chl.set_defaults(func=commands.channels_list)
    chans.add_parser("validate", help="validate every config file").set_defaults(
        func=commands.channels_validate)
    cht = chans.add_parser("test", help="send one test message through a channel")
    cht.add_argument("name")
    cht.add_argument("--to", default=None, help="recipient address (email channels)")
    cht.add_argument("--dry-run", action="store_true")
    cht.set_defaults(func=commands.channels_test)

    plan = sub.add_parser("plan", help="plan due messages into the outbox and show what is due")
    plan.add_argument("--json", action="store_true")
    plan.add_argument("--dry-run", action="store_true")
    plan.set_defaults(func=commands.plan)

    sn = sub.add_parser("send-now", help="plan and dispatch everything due now, then exit")
    sn.add_argument("--campaign")
    sn.add_argument("--course")
    sn.add_argument("--channel")
    sn.add_argument("--dry-run", action="store_true")
    sn.add_argument("--json", action="store_true")
    sn.set_defaults(func=commands.send_now)

    run = sub.add_parser("run", help="the daemon")
    run.add_argument("--http-port", type=int, default=None,
                     help="serve /healthz and /metrics on this port (default: settings.yaml"
                          " http.port, 9464; 0 = off)")
    run.set_defaults(func=commands.run_daemon)
    st = sub.add_parser("status", help="queue, channels needing attention, daemon heartbeats")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=status.status)

    dl = sub.add_parser("deliveries", help="the outbox").add_subparsers(
        dest="action", required=True)
    dll = dl.add_parser("list", help="list deliveries")
    dll.add_argument("--state")
    dll.add_argument("--channel")
    dll.add_argument("--campaign")
    dll.add_argument("--limit", type=int, default=200)
    dll.add_argument("--json", action="store_true")
    dll.set_defaults(func=commands.deliveries_list)
    for name, fn, text in (("retry", commands.deliveries_retry, "send a failed/unknown one again"),
                           ("cancel", commands.deliveries_cancel, "never send it")):
        a = dl.add_parser(name, help=text)
        a.add_argument("id", type=int)
        a.set_defaults(func=fn)
    posts = sub.add_parser("posts", help="centre-submitted posts").add_subparsers(
        dest="action", required=True)
    ps = posts.add_parser("submit", help="submit a post (YAML or JSON file)")
    ps.add_argument("file", type=Path)
    ps.set_defaults(func=commands.posts_submit)
    pls = posts.add_parser("list", help="list submitted posts")
    pls.add_argument("--json", action="store_true")
    pls.set_defaults(func=commands.posts_list)
    for name, fn, text in (("approve", commands.posts_approve, "approve: slot it on its channels"),
                           ("reject", commands.posts_reject, "reject: never post it")):
        a = posts.add_parser(name, help=text)
        a.add_argument("id", type=int)
        a.set_defaults(func=fn)
    for group in groups.GROUPS:
        group.register(sub)
    return p


def configure_logging(verbose: bool, fmt: str) -> None:
    level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        from scheduler.logs import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    json_errors = wants_json(sys.argv[1:] if argv is None else argv)
    set_error_format("json" if json_errors else "text")
    try:
        args = parse_args(parser, argv, json_errors)
    except SystemExit as exc:  # argparse: usage errors are bad input
        return int(exc.code or 0) if exc.code in (0, None) else 2
    configure_logging(args.verbose, args.log_format)
    app = App(args.config_dir, args.db, args.now)
    try:
        return int(args.func(app, args) or 0)
    except InputError as exc:
        for line in exc.errors:
            print_error(app_redact(app, line))
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.debug("failure", exc_info=True)
        print_error(app_redact(app, f"{type(exc).__name__}: {exc}"))
        return 1
    finally:
        app.close()


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
               json_errors: bool) -> argparse.Namespace:
    """`parser.parse_args`; with JSON errors, argparse's usage message becomes one JSON line."""
    if not json_errors:
        return parser.parse_args(argv)
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return parser.parse_args(argv)
    except SystemExit:
        lines = [ln for ln in captured.getvalue().splitlines() if ln.strip()]
        if lines:
            print_error(lines[-1].split("error: ", 1)[-1])
        raise


def app_redact(app: App, text: str) -> str:
    cfg = app.loaded_config()
    return cfg.redact(text) if cfg is not None else text
