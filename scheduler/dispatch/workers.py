"""The two kinds of send worker: one message at a time, and the streaming one.

Each takes deliveries from its drain's shared `Feed` until it ends and returns their
states. An outcome is written in the same commit that marks the worker's next delivery
`sending` (one commit a message instead of two), or its next group of deliveries starting
together (the streaming worker, when several sessions are free at once); the last ones
when the feed ends.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

from sqlalchemy.orm import Session

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler.batch import Batch, DeliveryRow
from scheduler.dispatch.steps import Steps
from scheduler.outbox.writer import Pending

log = logging.getLogger(__name__)

FeedItems = Iterator[tuple[DeliveryRow, Batch]]


def work(steps: Steps, feed: FeedItems, channel: Channel, pending: Pending,
         session: Session) -> list[str]:
    """One worker sending a message at a time. A crash between two messages leaves one
    delivery `sending`, hence `unknown`, exactly as a crash during its send would: per
    worker, at most one delivery is ever in doubt."""
    return [steps.process(d, channel, batch, pending, session) for d, batch in feed]


class StreamWorker:
    """The one worker of a channel that `streams`: it builds and marks `sending` the next
    deliveries whenever the channel can start sends, while the others are in flight.

    The channel asks for as many messages as it has sessions free (`take(n)`); when several
    sends ended during one wait, their successors are marked `sending` as a group in ONE
    commit (which also carries the outcomes queued since the last), each row with the same
    checks as ever (a row refused is not sent), and the channel starts them all right
    after, before it waits for any server. While the channel waits for its sends, the next
    deliveries are built ahead (claimed, rendered; not yet `sending`; at most one for each
    send in flight), so the wait is not lost.

    A crash leaves at most the deliveries in flight, and those whose outcome was not yet
    written, in `sending` (hence `unknown`): no more than `concurrency()` plus the pending
    ones, as a group never outnumbers the free sessions. One built ahead but never begun is
    only reserved, like those the feed still holds.

    State: `staged` (deliveries built ahead, in feed order), `in_flight` (sends started, by
    delivery id), `ended` (the feed is exhausted), `feed_error` (raised once the sends in
    flight are recorded), `states` (each delivery's resulting state).
    """

    def __init__(self, steps: Steps, feed: FeedItems, channel: Channel, pending: Pending,
                 session: Session) -> None:
        self.steps = steps
        self.feed = feed
        self.channel = channel
        self.pending = pending
        self.session = session
        self.states: list[str] = []
        self.in_flight: dict[int, tuple[DeliveryRow, Message]] = {}
        self.staged: deque[tuple[DeliveryRow, Batch, Message]] = deque()
        self.ended = False
        self.feed_error: BaseException | None = None
        self.groups = 0
        """`sending` commits made (each one group of sends starting together)."""

    def run(self) -> list[str]:
        """Stream the feed through the channel; each delivery's resulting state."""
        try:
            for sent in self.channel.send_stream(self, ahead=self._build_ahead):
                d, built = self.in_flight.pop(sent.key)
                self.states.append(self.steps.complete(d, built, sent.result, sent.seconds,
                                                       self.channel, self.pending))
        except Exception as exc:  # an adapter bug: the sends in flight are in doubt
            log.exception("channel %s raised while sending", self.channel.name)
            doubt = DeliveryResult(DeliveryStatus.UNKNOWN,
                                   error=f"{type(exc).__name__}: {exc}")
            for d, built in self.in_flight.values():
                self.states.append(self.steps.complete(d, built, doubt, 0.0, self.channel,
                                                       self.pending))
        if self.feed_error is not None:
            raise self.feed_error
        return self.states

    def _build_next(self) -> bool:
        """Build the feed's next delivery to be sent into `staged`; False (and `ended`) at
        the feed's end."""
        try:
            for d, batch in self.feed:
                built = self.steps.build(d, self.channel, batch, self.pending, self.session)
                if isinstance(built, str):
                    self.states.append(built)
                    continue
                self.staged.append((d, batch, built))
                return True
        except Exception as exc:  # the sends in flight still end and are recorded
            self.feed_error = exc
        self.ended = True
        return False

    def _build_ahead(self) -> Message | None:
        """The channel waits for its sends: build one more now (not yet `sending`)."""
        if self.ended or not self._build_next():
            return None
        return self.staged[-1][2]

    def take(self, n: int) -> list[tuple[int, Message]]:
        """Up to `n` messages to start now, marked `sending` in one commit; [] at the end.

        Those built ahead go first, then more are built; a group the outbox refuses whole
        is followed by the next deliveries, so [] means the feed is done."""
        while True:
            while len(self.staged) < n and not self.ended:
                self._build_next()
            group = [self.staged.popleft() for _ in range(min(n, len(self.staged)))]
            if not group:
                return []
            self.groups += 1
            states = self.steps.confirm_all([(d, batch) for d, batch, _ in group],
                                            self.channel, self.pending)
            taken = []
            for (d, _batch, built), state in zip(group, states, strict=True):
                if state is not None:
                    self.states.append(state)
                else:
                    self.in_flight[d.id] = (d, built)
                    taken.append((d.id, built))
            if taken:
                return taken
