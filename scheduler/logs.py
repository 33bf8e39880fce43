"""Log lines whose times follow the command's clock (`--now`): plain text, or one JSON object
per line for log shippers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def clock_shift(clock: Callable[[], datetime]) -> timedelta:
    """How far `clock` (the command's, maybe started at `--now`) is from the real time."""
    return clock() - datetime.now(UTC)


class TextFormatter(logging.Formatter):
    """`TIME LEVEL logger: message`, the time on the command's clock (ISO 8601, UTC)."""

    def __init__(self, shift: timedelta = timedelta(0)) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.shift = shift

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        at = datetime.fromtimestamp(record.created, UTC) + self.shift
        return at.isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (on the command's clock), level, logger, msg, exc."""

    def __init__(self, shift: timedelta = timedelta(0)) -> None:
        super().__init__()
        self.shift = shift

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": (datetime.fromtimestamp(record.created, UTC) + self.shift).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)
