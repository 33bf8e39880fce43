"""Parsers for the small text forms used across config/: durations, windows, rates, timings.

Each raises ValueError with a message fit for an operator (it names the text and the
expected form); the loader turns that into a `FILE:LINE: FIELD: reason` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Literal

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_DURATION = re.compile(r"(?:\s*\d+\s*[smhdw])+\s*")
_PART = re.compile(r"(\d+)\s*([smhdw])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\S+)\s*")
_BEFORE = re.compile(r"before\s+(\w+)\s+(.+)")
_CRON = re.compile(r"cron\s*:\s*(.*)", re.DOTALL)

TIMING_FIELDS = ("start_date", "registration_deadline")
"""The course dates a `before` rule may count from."""


def parse_duration(text: str) -> timedelta:
    """`30s`, `90m`, `1h`, `7d`, `2w`, or a sum such as `1h30m`; ValueError otherwise.

    A bare number is refused: `90` could mean seconds or minutes, and YAML 1.1 even reads
    `1:30` as the integer 90.
    """
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        raise ValueError(f"invalid duration {text!r} (expected e.g. 30s, 90m, 1h, 7d, 2w, 1h30m)")
    total = timedelta(0)
    seen: set[str] = set()
    for amount, unit in _PART.findall(text):
        if unit in seen:
            raise ValueError(f"invalid duration {text!r} (unit {unit!r} given twice)")
        seen.add(unit)
        try:
            total += int(amount) * _UNITS[unit]
        except OverflowError:
            raise ValueError(f"invalid duration {text!r} (too long)") from None
    return total


def format_duration(value: timedelta) -> str:
    """The shortest text that `parse_duration` reads back as `value` (whole seconds)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    week = int(_UNITS["w"].total_seconds())
    if seconds % week == 0:
        return f"{seconds // week}w"
    parts = []
    for unit in "dhms":  # 10d reads better than 1w3d
        step = int(_UNITS[unit].total_seconds())
        if seconds >= step:
            parts.append(f"{seconds // step}{unit}")
            seconds %= step
    return "".join(parts)


def _clock(text: str, *, end: bool) -> time:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid time {text.strip()!r} (expected HH:MM)")
    hour, minute = int(match[1]), int(match[2])
    if end and (hour, minute) == (24, 0):
        return time(0, 0)  # "24:00" ends at midnight; an end before the start means overnight
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid time {text.strip()!r} (expected HH:MM, 00:00 to 23:59)")
    return time(hour, minute)


def parse_window(text: str) -> tuple[time, time]:
    """`08:00-20:00` → (start, end). An end before the start spans midnight (`22:00-06:00`);
    `24:00` is accepted as an end. An empty window (start = end) is refused."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"invalid window {text!r} (expected HH:MM-HH:MM, e.g. 08:00-20:00)")
    first, second = text.split("-")
    try:
        start, end = _clock(first, end=False), _clock(second, end=True)
    except ValueError as exc:
        raise ValueError(f"invalid window {text!r}: {exc}") from None
    if start == end:
        raise ValueError(f"invalid window {text!r} (start and end are the same)")
    return start, end


def parse_rate(text: str) -> tuple[int, timedelta]:
    """`100/s`, `30/m`, `600/h`, `1000/d`, or a longer period such as `30/5m` → (count, period)."""
    match = _RATE.fullmatch(text) if isinstance(text, str) else None
    if match:
        count, period_text = int(match[1]), match[2]
        try:
            period = parse_duration(period_text if period_text[0].isdigit() else "1" + period_text)
        except ValueError:
            period = timedelta(0)
        if count > 0 and period > timedelta(0):
            return count, period
    raise ValueError(
        f"invalid rate {text!r} (expected COUNT/UNIT, e.g. 100/s, 30/m, 600/h, 1000/d)"
    )


@dataclass(frozen=True)
class Timing:
    """A campaign's timing rule: `on_publish`, `before FIELD OFFSET`, or `cron: EXPR`."""

    kind: Literal["on_publish", "before", "cron"]
    field: str | None = None
    offset: timedelta | None = None
    cron: str | None = None

    def __str__(self) -> str:
        if self.kind == "before" and self.offset is not None:
            return f"before {self.field} {format_duration(self.offset)}"
        if self.kind == "cron":
            return f"cron: {self.cron}"
        return self.kind


def parse_timing(text: str) -> Timing:
    """`on_publish` | `before registration_deadline 10d` | `before start_date 45d` |
    `cron: 0 8 * * MON` (five-field crontab, checked by APScheduler)."""
    if not isinstance(text, str):
        raise ValueError(f"invalid timing {text!r} (expected text)")
    text = " ".join(text.split())
    if text == "on_publish":
        return Timing("on_publish")
    if before := _BEFORE.fullmatch(text):
        field, offset_text = before[1], before[2]
        if field not in TIMING_FIELDS:
            raise ValueError(
                f"invalid timing {text!r}: 'before' counts from {' or '.join(TIMING_FIELDS)}, "
                f"not {field!r}"
            )
        try:
            offset = parse_duration(offset_text)
        except ValueError as exc:
            raise ValueError(f"invalid timing {text!r}: {exc}") from None
        return Timing("before", field=field, offset=offset)
    if cron := _CRON.fullmatch(text):
        expr = cron[1].strip()
        _check_cron(expr)
        return Timing("cron", cron=expr)
    raise ValueError(
        f"invalid timing {text!r} (expected on_publish, 'before start_date 45d', "
        "'before registration_deadline 10d' or 'cron: 0 8 * * MON')"
    )


def _check_cron(expr: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    if len(expr.split()) != 5:
        raise ValueError(
            f"invalid cron expression {expr!r} (expected 5 fields: minute hour day month weekday)"
        )
    try:
        # An explicit zone keeps APScheduler from consulting the host's local zone.
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from None
