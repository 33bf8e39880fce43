"""`herald`, the command line: argument parsing and output only; the work is in the services.

`main.py` holds the global options and the parser; each command group added since lives in
a module of its own with a `register(subparsers)` function, listed in `groups.py`.
"""

from __future__ import annotations

from scheduler.cli.main import build_parser, main
from scheduler.cli.output import dump_json

__all__ = ["build_parser", "dump_json", "main"]
