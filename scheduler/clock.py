"""Time as a parameter: the real clock, or one that starts at `--now` and ticks on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Callable returning aware UTC datetimes.

    With a start time (the CLI's `--now`), it returns that time plus the real time
    elapsed since the clock was made, so leases and backoffs still run their course.
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("--now needs a time zone (e.g. 2027-03-01T09:00:00Z)")
        self._start = start.astimezone(UTC) if start else None
        self._t0 = time.monotonic()

    @property
    def fixed(self) -> bool:
        return self._start is not None

    def __call__(self) -> datetime:
        if self._start is None:
            return datetime.now(UTC)
        return self._start + timedelta(seconds=time.monotonic() - self._t0)
