"""The shared feed: a channel's due deliveries for its workers, claimed a batch at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from itertools import repeat

from sqlalchemy.orm import Session, sessionmaker

from scheduler.batch import Batch, DeliveryRow, load_batch


class Feed:
    """Claimed deliveries with their batch, for the workers of one drain; thread-safe.

    The workers share it for the whole drain: one that finds the batch used up claims the
    next, so no worker waits for the others to finish theirs. It ends when nothing more is
    due, or when `should_stop` says so (the dispatcher stops, the channel was halted).
    """

    def __init__(self, claim: Callable[[], list[int]], sessions: sessionmaker[Session],
                 should_stop: Callable[[], bool]) -> None:
        self._claim = claim
        self._sessions = sessions
        self._should_stop = should_stop
        self._lock = threading.Lock()
        self._items: Iterator[tuple[DeliveryRow, Batch]] = iter(())
        self._done = False

    def __iter__(self) -> Feed:
        return self

    def __next__(self) -> tuple[DeliveryRow, Batch]:
        with self._lock:
            while True:
                item = next(self._items, None)
                if item is not None:
                    return item
                if self._done or self._should_stop():
                    raise StopIteration
                ids = self._claim()
                if not ids:
                    self._done = True
                    raise StopIteration
                with self._sessions() as s:
                    batch = load_batch(s, ids)
                self._items = zip(batch.deliveries, repeat(batch))
