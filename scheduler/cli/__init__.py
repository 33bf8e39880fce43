"""`herald`, the command line: argument parsing and output only; the work is in the services.

`main.py` holds the global options, the exit codes and the parser. Each command group is a
module with `register(subparsers)` and thin handlers (parse, call one service, print through
`output.py`): db, courses, participants, channels, sending (plan, send-now, run), status,
deliveries, posts; groups added later are listed in `groups.py`.
"""

from __future__ import annotations

from scheduler.cli.main import build_parser, main
from scheduler.cli.output import dump_json

__all__ = ["build_parser", "dump_json", "main"]
