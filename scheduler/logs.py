"""Log lines whose times follow the command's clock (`--now`): plain text, or one JSON object
per line for log shippers."""

from __future__ import annotations

import itertools
import json
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
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


_error_format = "text"


def set_error_format(fmt: str) -> None:
    """How `print_error` writes: `text` (`error: …`) or `json` (one object, like the logs)."""
    global _error_format
    _error_format = fmt


def print_error(text: str, label: str = "error") -> None:
    """One error line on stderr (`LABEL: text`), in the format the logs use
    (`--log-format json`: one object, its `kind` the label)."""
    if _error_format == "json":
        doc = {"ts": datetime.now(UTC).isoformat(), "level": "error", "logger": "herald",
               "kind": label, "msg": text}
        print(json.dumps(doc, ensure_ascii=False), file=sys.stderr, flush=True)
    else:
        print(f"{label}: {text}", file=sys.stderr, flush=True)


def wants_json(argv: Sequence[str]) -> bool:
    """Whether `--log-format json` (or `--log-format=json`) is among the arguments."""
    args = list(argv)
    return "--log-format=json" in args or any(
        a == "--log-format" and b == "json" for a, b in itertools.pairwise(args))


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
