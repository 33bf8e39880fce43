"""Claim due deliveries under a lease → build → channel.send → record the outcome.

Orchestration only: which channels may send, one drain per channel over a shared `Feed`,
its workers (`workers`), each delivery's steps (`steps`). Every write is the outbox's
(`scheduler.outbox`): leases and recovery (`Leases`), the send path (`SendPath`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel
from scheduler import outbox
from scheduler.batch import Batch, DeliveryRow
from scheduler.config import HeraldConfig
from scheduler.dispatch.feed import BatchSizer, Feed
from scheduler.dispatch.steps import RunState, Steps
from scheduler.dispatch.workers import FeedItems, StreamWorker, work
from scheduler.filter import Filter
from scheduler.messages import MessageBuilder
from scheduler.models import ChannelHealth

log = logging.getLogger(__name__)


class Dispatcher:
    """Sends what is due. One instance per process; thread-safe per channel batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: HeraldConfig,
        channels: dict[str, Channel],
        builder: MessageBuilder,
        *,
        clock: Callable[[], datetime],
        owner: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 100,
        max_batch_size: int = 500,
        retry: outbox.RetryTiming | None = None,
        leases: outbox.Leases | None = None,
    ) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        assert isinstance(bind, Engine), "the session factory must be bound to an engine"
        self.engine: Engine = bind
        self.config = config
        self.channels = channels
        self.clock = clock
        self.batch_size = batch_size
        """The first claim of a drain; later ones grow to `max_batch_size` (`BatchSizer`)."""
        self.max_batch_size = max_batch_size
        self.leases = leases or outbox.Leases(sessions, clock, owner=owner, lease=lease)
        self.path = outbox.SendPath(bind, self.leases)
        self.leases.use_write_lock(self.path.write_lock)
        self.state = RunState()
        self.steps = Steps(config, builder, sessions, self.path, clock, self.state,
                           timing=retry or outbox.RetryTiming())

    @property
    def owner(self) -> str:
        return self.leases.owner

    @property
    def on_outcome(self) -> Callable[[str, str, float], None] | None:
        """Observer (the daemon's metrics): (channel, resulting state, send seconds)."""
        return self.state.on_outcome

    @on_outcome.setter
    def on_outcome(self, observer: Callable[[str, str, float], None] | None) -> None:
        self.state.on_outcome = observer

    def stop(self) -> None:
        """Stop claiming; sends under way finish."""
        self.state.stopping = True

    def recover(self) -> Counter[str]:
        """The reaper: settle leases nobody will end (`Leases.recover`)."""
        return self.leases.recover()

    # -- which channels, which deliveries -----------------------------------------

    def usable_channels(self, only: Filter) -> list[str]:
        """Enabled channels (within `only`) not flagged under their current options."""
        names = []
        with self.sessions() as s:
            flagged = {
                h.channel: h
                for h in s.scalars(
                    select(ChannelHealth).where(ChannelHealth.needs_attention.is_(True))
                )
            }
        for name, cfg in self.config.channels.items():
            if not cfg.enabled or name not in self.channels:
                continue
            if only.channel and name != only.channel:
                continue
            h = flagged.get(name)
            if h is not None and h.config_hash == self.config.channel_hash(name):
                log.warning("channel %s needs attention (%s); its deliveries wait", name, h.reason)
                continue
            names.append(name)
        return names

    def claim(self, channel: str, only: Filter, limit: int) -> list[int]:
        """Reserve up to `limit` due deliveries of `channel` for this owner, after
        cadence's pass (a course email is claimed as its bundle's lead)."""
        self.apply_cadence(channel, only)
        return self.leases.claim(channel, only, limit)

    def apply_cadence(self, channel: str, only: Filter) -> outbox.CadenceResult:
        """Cadence's pass over `channel`'s due course emails (`outbox.apply_cadence`)."""
        with self.path.write_lock:
            return outbox.apply_cadence(self.sessions, self.config, channel, self.clock(),
                                        only)

    def release_all(self, channel: str | None = None) -> None:
        """Free this owner's reserved rows (of one channel, or all) whose send never began."""
        self.leases.release_all(channel)

    # -- drains -----------------------------------------------------------------

    def run_once(self, only: Filter | None = None) -> Counter[tuple[str, str]]:
        """Dispatch everything due now (within `only`: e.g. given `delivery_ids`);
        (channel, final state) counts."""
        only = only or Filter()
        outcome: Counter[tuple[str, str]] = Counter()
        self.state.halted.clear()  # the lasting flag is ChannelHealth, read just below
        for name in self.usable_channels(only):
            outcome.update(self.drain_channel(name, only))
        return outcome

    def dispatch_channel(self, name: str) -> Counter[tuple[str, str]]:
        """Everything due on one channel (the daemon runs one such worker per channel)."""
        self.state.halted.discard(name)  # the lasting flag is ChannelHealth, read just below
        if name not in self.usable_channels(Filter(channel=name)):
            return Counter()
        return self.drain_channel(name, Filter())

    def drain_channel(self, name: str, only: Filter) -> Counter[tuple[str, str]]:
        """Send `name`'s due deliveries through its workers until none is left."""
        channel = self.channels[name]
        outcome: Counter[tuple[str, str]] = Counter()
        # Cadence first: a person's due course emails become one bundle (its lead is what
        # the feed claims), or wait for that person's next allowed email.
        self.apply_cadence(name, only)
        workers = 1 if channel.streams else max(1, channel.concurrency())
        sizer = BatchSizer(self.batch_size, self.max_batch_size, self.leases.lease)
        feed = Feed(lambda size: self.leases.claim(name, only, size), self.sessions,
                    lambda: not self.state.may_send(name), sizer)
        try:
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix=f"send-{name}") as pool:
                futures = [pool.submit(self._worker, feed, channel) for _ in range(workers)]
                for future in futures:
                    for state in future.result():
                        outcome[(name, state)] += 1
        finally:
            self.release_all(channel=name)
        return outcome

    def _worker(self, feed: FeedItems, channel: Channel) -> list[str]:
        """One worker: its queue of outcomes and its reading session, reused from message
        to message (what is still queued is committed at the end)."""
        session = self.sessions()
        try:
            with self.path.worker() as pending:
                if channel.streams:
                    return StreamWorker(self.steps, feed, channel, pending, session).run()
                return work(self.steps, feed, channel, pending, session)
        finally:
            session.close()

    def process(self, d: DeliveryRow, channel: Channel, batch: Batch) -> str:
        """Build, send and record one claimed delivery (read with `batch`); its new state."""
        return self.steps.process(d, channel, batch)

