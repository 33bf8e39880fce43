"""A channel's sending policy, parsed once from channels.yaml into a typed, frozen object.

Window, time zone, daily cap, minimum gap, attempts and rate are read here and nowhere
else: the planner's slots, the dispatcher's send-time holds and its retry decision all take
a `ChannelPolicy`. Each has one default; a channel without `timezone` uses the settings'
time zone (as posting slots always did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.config.parse import parse_duration, parse_rate, parse_window

DEFAULT_MAX_ATTEMPTS = 8
"""Sends of one delivery before a transient failure is final."""


@dataclass(frozen=True)
class ChannelPolicy:
    """When and how often one channel may send."""

    tz: ZoneInfo
    window: tuple[time, time] | None = None
    max_per_day: int | None = None
    min_gap: timedelta | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    rate: tuple[int, timedelta] | None = None
    """(count, period): at most `count` sends per `period`."""

    @property
    def unrestricted(self) -> bool:
        """No window, cap or gap: a post goes whenever it is due."""
        return self.window is None and self.max_per_day is None and self.min_gap is None

    @classmethod
    def parse(cls, raw: Mapping[str, Any], default_tz: str) -> ChannelPolicy:
        """The policy of a channel's validated YAML mapping (`default_tz`: the settings')."""
        return cls(
            tz=ZoneInfo(raw.get("timezone") or default_tz),
            window=parse_window(raw["window"]) if raw.get("window") else None,
            max_per_day=int(raw["max_per_day"]) if raw.get("max_per_day") else None,
            min_gap=parse_duration(raw["min_gap"]) if raw.get("min_gap") else None,
            max_attempts=int(raw.get("max_attempts") or DEFAULT_MAX_ATTEMPTS),
            rate=parse_rate(raw["rate"]) if raw.get("rate") else None,
        )
