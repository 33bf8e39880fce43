"""The two kinds of send worker: one message at a time, and the streaming one.

Each takes deliveries from its drain's shared `Feed` until it ends and returns their
states. An outcome is written in the same commit that marks the worker's next delivery
`sending` (one commit a message instead of two); the last one when the feed ends.
"""

from __future__ import annotations

import logging
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
    delivery whenever the channel can start a send, while the others are in flight.

    While the channel waits for its sends, the next delivery is built ahead (claimed,
    rendered; not yet `sending`), so the wait is not lost; it is marked `sending`, with
    the same checks as ever, only when a send can start. A crash leaves at most the
    deliveries in flight, and those whose outcome was not yet written, in `sending`
    (hence `unknown`): no more than `concurrency()` plus the pending ones. One built ahead
    but never begun is only reserved, like those the feed still holds.

    State: `staged` (at most one delivery built ahead), `in_flight` (sends started, by
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
        self.staged: tuple[DeliveryRow, Batch, Message] | None = None
        self.ended = False
        self.feed_error: BaseException | None = None

    def run(self) -> list[str]:
        """Stream the feed through the channel; each delivery's resulting state."""
        try:
            for sent in self.channel.send_stream(self._ready(), ahead=self._build_ahead):
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

    def _build_next(self) -> None:
        """Build the feed's next delivery to be sent into `staged`; `ended` at its end."""
        try:
            for d, batch in self.feed:
                built = self.steps.build(d, self.channel, batch, self.pending, self.session)
                if isinstance(built, str):
                    self.states.append(built)
                    continue
                self.staged = (d, batch, built)
                return
        except Exception as exc:  # the sends in flight still end and are recorded
            self.feed_error = exc
        self.ended = True

    def _build_ahead(self) -> Message | None:
        """The channel waits for its sends: build the next one now (not yet `sending`)."""
        if self.staged is not None or self.ended:
            return None
        self._build_next()
        return self.staged[2] if self.staged is not None else None

    def _ready(self) -> Iterator[tuple[int, Message]]:
        """The messages to send, each marked `sending` as the channel takes it."""
        while True:
            if self.staged is None and not self.ended:
                self._build_next()
            if self.staged is None:
                return
            d, batch, built = self.staged
            self.staged = None
            state = self.steps.confirm(d, self.channel, batch, self.pending)
            if state is not None:
                self.states.append(state)
                continue
            self.in_flight[d.id] = (d, built)
            yield d.id, built
