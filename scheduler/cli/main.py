"""`herald`: the global options, the parser built from the command groups, and the exit codes.

Exit 0 ok, 2 bad input or configuration, 1 any other failure. Each command group is a module
of this package with `register(subparsers)`; its handlers parse nothing more, call one service
and print through `scheduler.cli.output`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from scheduler.app import App
from scheduler.cli import (
    channels,
    courses,
    db,
    deliveries,
    groups,
    participants,
    posts,
    sending,
    status,
)
from scheduler.errors import InputError
from scheduler.logs import (
    JsonFormatter,
    TextFormatter,
    clock_shift,
    print_error,
    set_error_format,
    wants_json,
)

log = logging.getLogger("herald")

CORE_GROUPS = (db, courses, participants, channels, sending, status, deliveries, posts)
"""The command groups `herald` has always had, in help order; later ones are in `groups.py`."""


def parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--now: '{text}' is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--now: '{text}' needs a time zone, e.g. Z")
    return value


def herald_version() -> str:
    """The installed package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coe-herald")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="herald", description="CoE Herald: course promotion.")
    p.add_argument("--version", action="version", version=f"herald {herald_version()}")
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

    for group in (*CORE_GROUPS, *groups.GROUPS):
        group.register(sub)
    return p


def configure_logging(verbose: bool, fmt: str, shift: timedelta = timedelta(0)) -> None:
    """Log to stderr at INFO (`-v`) or WARNING, times shifted onto the command's clock."""
    level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(shift) if fmt == "json" else TextFormatter(shift))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The daemon logs what each tick did; the scheduler library's own ticks are noise, and so
    # are Alembic's plugin and context lines on every command's schema check.
    for library in ("apscheduler", "alembic"):
        logging.getLogger(library).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    json_errors = wants_json(sys.argv[1:] if argv is None else argv)
    set_error_format("json" if json_errors else "text")
    try:
        args = parse_args(parser, argv, json_errors)
    except SystemExit as exc:  # argparse: usage errors are bad input
        return int(exc.code or 0) if exc.code in (0, None) else 2
    app = App(args.config_dir, args.db, args.now)
    configure_logging(args.verbose, args.log_format,
                      clock_shift(app.clock) if app.clock.fixed else timedelta(0))
    code = 1
    try:
        code = int(args.func(app, args) or 0)
        return code
    except InputError as exc:
        for line in exc.errors:
            print_error(app_redact(app, line))
        code = 2
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`herald deliveries list | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError):  # not a real file: a test's capture
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        log.debug("failure", exc_info=True)
        print_error(app_redact(app, f"{type(exc).__name__}: {exc}"))
        return 1
    finally:
        if code in (1, 2):
            with contextlib.suppress(Exception):  # never hide the command's own error
                app.discard_new_database()
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
