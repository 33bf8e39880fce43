"""Structured logs: one JSON object per line, for log shippers."""

from __future__ import annotations

import itertools
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


_error_format = "text"


def set_error_format(fmt: str) -> None:
    """How `print_error` writes: `text` (`error: …`) or `json` (one object, like the logs)."""
    global _error_format
    _error_format = fmt


def print_error(text: str) -> None:
    """One error line on stderr, in the format the logs use (`--log-format`)."""
    if _error_format == "json":
        doc = {"ts": datetime.now(UTC).isoformat(), "level": "error", "logger": "herald",
               "msg": text}
        print(json.dumps(doc, ensure_ascii=False), file=sys.stderr, flush=True)
    else:
        print(f"error: {text}", file=sys.stderr, flush=True)


def wants_json(argv: Sequence[str]) -> bool:
    """Whether `--log-format json` (or `--log-format=json`) is among the arguments."""
    args = list(argv)
    return "--log-format=json" in args or any(
        a == "--log-format" and b == "json" for a, b in itertools.pairwise(args))
