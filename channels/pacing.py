"""Send-rate pacing shared by the threads of one channel: `100/s`, `30/m`, `600/h`, `30/5m`.

Channels cannot import `scheduler`, so the rate form is parsed here too (the same grammar as
`scheduler.config.parse.parse_rate`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*")


def parse_rate(text: str) -> tuple[int, float]:
    """`COUNT/[N]UNIT` → (count, period in seconds); ValueError when malformed."""
    match = _RATE.fullmatch(text)
    if match:
        count, multiple = int(match[1]), int(match[2] or 1)
        if count > 0 and multiple > 0:
            return count, multiple * _UNITS[match[3]]
    raise ValueError(f"invalid rate {text!r} (expected COUNT/UNIT, e.g. 100/s, 30/m, 600/h)")


class Pacer:
    """Spaces sends evenly: at most one every `period / count` seconds, across threads.

    Even spacing rather than a bucket that starts full: a server that allows 100/s rarely
    welcomes 100 messages in the first millisecond. Callers are served in arrival order.
    """

    def __init__(
        self,
        count: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if count <= 0 or period <= 0:
            raise ValueError("a rate needs a positive count and period")
        self.interval = period / count
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")

    @classmethod
    def from_rate(cls, rate: str | None) -> Pacer | None:
        """A pacer for `rate`, or None when there is no limit."""
        if rate is None:
            return None
        return cls(*parse_rate(rate))

    def wait(self) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)
