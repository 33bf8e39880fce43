"""Log lines whose times follow the command's clock (`--now`): plain text, or one JSON object
per line for log shippers."""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
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


def per_channel(counts: Mapping[tuple[str, str], int], channel_first: bool = True) -> str:
    """Totals by channel for a log line: `email 887 sent, 3 retrying; x 1 sent`.

    `counts` is keyed (channel, state) (a dispatch's outcome), or with `channel_first` false
    (campaign, channel) (a plan: then the totals read `email 12 planned`)."""
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for (a, b), n in counts.items():
        if channel_first:
            by[a][b] += n
        else:
            by[b]["planned"] += n
    return "; ".join(
        f"{channel} " + ", ".join(f"{n:,} {what}" for what, n in sorted(whats.items()))
        for channel, whats in sorted(by.items())) or "nothing"
