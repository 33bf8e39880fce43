"""Progress of long work: bars on a terminal (rich), a summary line a minute in logs otherwise,
nothing with `--json`."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

log = logging.getLogger("herald")

LOG_EVERY = 60.0
"""Seconds between two summary lines in the logs."""


def _words(counts: Counter[str]) -> str:
    return ", ".join(f"{n:,} {state}" for state, n in sorted(counts.items())) or "nothing"


def _count(n: int, noun: str) -> str:
    """`1 message`, `162 messages`, `1 delivery`, `887 deliveries`."""
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n:,} {noun if n == 1 else plural}"


def totals(messages: Counter[tuple[str, str]], settled: Counter[tuple[str, str]]) -> str:
    """Per channel, the messages sent (or not) and the deliveries they carried, each number
    naming what it counts: `email: 162 messages sent carrying 887 deliveries, 11 deliveries
    cancelled` (cadence bundles a person's due course emails into one message; deliveries
    cancelled or held without a send are counted alone)."""
    channels = sorted({ch for ch, _ in messages} | {ch for ch, _ in settled})
    parts = []
    for channel in channels:
        states = sorted({st for ch, st in (*messages, *settled) if ch == channel},
                        key=lambda st: (not messages[(channel, st)], st))  # messages first
        words = []
        for state in states:
            sent, carried = messages[(channel, state)], settled[(channel, state)]
            if sent:
                words.append(f"{_count(sent, 'message')} {state}"
                             + (f" carrying {_count(carried, 'delivery')}" if carried else ""))
            elif carried:
                words.append(f"{_count(carried, 'delivery')} {state}")
        parts.append(f"{channel}: " + ", ".join(words))
    return "; ".join(parts) or "nothing"


class BarProgress:
    """One bar per channel on stderr: the messages done so far, the deliveries that were due,
    the rate and the time so far. Cadence bundles an unknown number of deliveries into each
    email, so messages and deliveries are two counts (no ETA from one over the other)."""

    def __init__(self, console: Console | None = None) -> None:
        self._bars = Progress(
            TextColumn("{task.description:<12}"), BarColumn(),
            TextColumn("{task.completed:,.0f} messages of {task.fields[due]:,} deliveries due"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), console=console or Console(stderr=True), transient=False)
        self._tasks: dict[str, TaskID] = {}
        self._done: Counter[str] = Counter()
        self._started = time.monotonic()
        self._lock = threading.Lock()

    def start(self, due: dict[str, int]) -> None:
        for channel, total in sorted(due.items()):
            self._tasks[channel] = self._bars.add_task(channel, total=None, rate="", due=total)
        self._bars.start()

    def advance(self, channel: str, state: str) -> None:
        with self._lock:
            task = self._tasks.get(channel)
            if task is None:
                task = self._tasks[channel] = self._bars.add_task(channel, total=None, rate="",
                                                                  due=0)
            self._done[channel] += 1
            rate = self._done[channel] / max(time.monotonic() - self._started, 1e-3)
            self._bars.update(task, advance=1, rate=f"{rate:,.0f} messages/s")

    def stop(self, settled: Counter[tuple[str, str]]) -> None:
        # The bar fills; what each message carried and what was due and not sent (held for
        # a window, cancelled by cadence) is in the summary that follows.
        for channel, task in self._tasks.items():
            self._bars.update(task, total=self._done[channel])
        self._bars.stop()


class LogProgress:
    """Not on a terminal: the deliveries due, one INFO line a minute with the messages sent
    so far, and the totals of each channel, messages and the deliveries they carried (one
    line per delivery is DEBUG, in the dispatcher)."""

    def __init__(self, every: float = LOG_EVERY) -> None:
        self.every = every
        self._counts: Counter[tuple[str, str]] = Counter()
        self._due = 0
        self._lock = threading.Lock()
        self._started = self._last = time.monotonic()

    def start(self, due: dict[str, int]) -> None:
        self._due = sum(due.values())
        log.info("send-now: %s due on %d channel(s)", _count(self._due, "delivery"), len(due))

    def advance(self, channel: str, state: str) -> None:
        with self._lock:
            self._counts[(channel, state)] += 1
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last = now
            counts: Counter[str] = Counter()
            for (_channel, each), n in self._counts.items():
                counts[each] += n
        done = sum(counts.values())
        log.info("send-now: %s done so far (%s) of %s due, %.0f messages/s",
                 _count(done, "message"), _words(counts), _count(self._due, "delivery"),
                 done / max(now - self._started, 1e-3))

    def stop(self, settled: Counter[tuple[str, str]]) -> None:
        elapsed = time.monotonic() - self._started
        log.info("send-now: done in %.1fs: %s", elapsed, totals(self._counts, settled))


class RowBar:
    """Imports on a terminal: one bar on stderr, rows imported of the file's, the rate, an ETA."""

    def __init__(self, what: str, console: Console | None = None) -> None:
        self.what = what
        self._bars = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("rows {task.fields[rate]}"), TimeRemainingColumn(),
            console=console or Console(stderr=True), transient=False)
        self._task: TaskID | None = None
        self._started = time.monotonic()

    def start(self, total: int) -> None:
        self._task = self._bars.add_task(self.what, total=total, rate="")
        self._started = time.monotonic()
        self._bars.start()

    def advance(self, rows: int) -> None:
        if self._task is None:
            return
        self._bars.advance(self._task, rows)
        done = self._bars.tasks[0].completed
        rate = done / max(time.monotonic() - self._started, 1e-3)
        self._bars.update(self._task, rate=f"{rate:,.0f}/s")

    def stop(self) -> None:
        self._bars.stop()


class RowLog:
    """Imports not on a terminal: the rows to import, one INFO line a minute, the total."""

    def __init__(self, what: str, every: float = LOG_EVERY) -> None:
        self.what = what
        self.every = every
        self._total = self._done = 0
        self._started = self._last = time.monotonic()

    def start(self, total: int) -> None:
        self._total = total
        self._started = self._last = time.monotonic()
        log.info("%s: %s rows to import", self.what, f"{total:,}")

    def advance(self, rows: int) -> None:
        self._done += rows
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        log.info("%s: %s of %s rows, %.0f/s", self.what, f"{self._done:,}", f"{self._total:,}",
                 self._done / max(now - self._started, 1e-3))

    def stop(self) -> None:
        log.info("%s: %s rows imported in %.1fs", self.what, f"{self._done:,}",
                 time.monotonic() - self._started)


@contextmanager
def importing(what: str, total: int, stream: TextIO, as_json: bool
              ) -> Iterator[Callable[[int], None] | None]:
    """Progress of an import of `total` rows: a bar on a terminal, log lines otherwise, none
    with `--json`; yields what to call with each count of rows done (None: nothing to call)."""
    if as_json:
        yield None
        return
    progress = RowBar(what) if stream.isatty() else RowLog(what)
    progress.start(total)
    try:
        yield progress.advance
    finally:
        progress.stop()
