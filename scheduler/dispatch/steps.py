"""One delivery's steps: build → mark `sending` → (the channel sends) → record the outcome.

Every write goes through the outbox's `SendPath`; the retry decision is
`scheduler.outbox.decide`. With a worker's `Pending`, an outcome waits for the worker's
next commit (one commit a message instead of two).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, insert, update
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler import outbox
from scheduler.batch import Batch, DeliveryRow
from scheduler.config import HeraldConfig
from scheduler.dispatch.holds import send_time_hold, window_opening
from scheduler.messages import MessageBuilder, Skip
from scheduler.models import ChannelHealth
from scheduler.outbox.writer import Pending

log = logging.getLogger(__name__)

HEALTH: Table = ChannelHealth.__table__  # type: ignore[assignment]


@dataclass
class RunState:
    """What every worker of a dispatcher checks: stopping, halted channels, the observer."""

    stopping: bool = False
    halted: set[str] = field(default_factory=set)
    """Channels whose credentials were refused this run."""
    on_outcome: Callable[[str, str, float], None] | None = None
    """(channel, resulting state, send seconds): the daemon's metrics."""

    def may_send(self, channel: str) -> bool:
        return not self.stopping and channel not in self.halted


class Steps:
    """The per-delivery steps of one dispatcher (thread-safe: no state of their own)."""

    def __init__(self, config: HeraldConfig, builder: MessageBuilder,
                 sessions: sessionmaker[Session], send_path: outbox.SendPath,
                 clock: Callable[[], datetime], run: RunState, *,
                 timing: outbox.RetryTiming) -> None:
        self.config = config
        self.builder = builder
        self.sessions = sessions
        self.path = send_path
        self.owner = send_path.leases.owner
        self.clock = clock
        self.run = run
        self.timing = timing
        self.rng = random.Random()
        self.tz = ZoneInfo(config.settings.timezone)

    def process(self, d: DeliveryRow, channel: Channel, batch: Batch,
                pending: Pending | None = None, session: Session | None = None) -> str:
        """Build, send and record one claimed delivery (read with `batch`); its new state."""
        built = self.build(d, channel, batch, pending, session)
        if isinstance(built, str):
            return built
        state = self.confirm(d, channel, batch, pending)
        if state is not None:
            return state
        started = time.monotonic()
        try:
            result = channel.send(built)
        except Exception as exc:  # an adapter bug: we cannot know whether it went out
            log.exception("channel %s raised while sending delivery %s", channel.name, d.id)
            result = DeliveryResult(DeliveryStatus.UNKNOWN,
                                    error=f"{type(exc).__name__}: {exc}")
        return self.complete(d, built, result, time.monotonic() - started, channel, pending)

    def build(self, d: DeliveryRow, channel: Channel, batch: Batch, pending: Pending | None,
              session: Session | None) -> Message | str:
        """Build one delivery's message, not yet marked `sending`; or (when it is not to be
        sent now) the state it was left in. `session` is closed before anything is written
        (on SQLite a second writer in the same thread would wait for it forever)."""
        if not self.run.may_send(channel.name):
            return "skipped"  # still reserved: released when the drain ends
        if d.lease_owner != self.owner or d.state not in outbox.CLAIMABLE:
            return "skipped"
        now = self.clock()
        built: Message | Skip | Exception
        opening: datetime | None = None
        s = session or self.sessions()
        with _ClosedIfUsed(s):
            try:
                built = self.builder.build(s, d, channel, now, batch)
            except Exception as exc:  # a template bug must not stop the queue
                log.exception("delivery %s: could not build the message", d.id)
                built = exc
            if isinstance(built, Message):
                opening = (window_opening(self.config, d, batch, now, self.tz) if built.is_email
                           else send_time_hold(self.config, s, channel.name, d.id, now))
        if isinstance(built, Exception):
            error = f"build failed: {type(built).__name__}: {built}"
            return self.finish(d, d.attempts, DeliveryResult(DeliveryStatus.PERMANENT,
                                                             error=error), channel,
                               pending=pending, bundled=False)
        if isinstance(built, Skip):
            self.path.skip(d.id, built.state.value, built.reason, self.clock(), pending,
                           bundled=batch.bundled(d))
            return built.state.value
        if opening is not None:
            self.path.hold(d.id, opening, self.clock(), pending, bundled=batch.bundled(d))
            return "held"
        return built

    def confirm(self, d: DeliveryRow, channel: Channel, batch: Batch,
                pending: Pending | None) -> str | None:
        """Mark a built delivery `sending` as its send starts: None, or "skipped" when it
        must not go out after all (stopping, the channel halted, or the outbox says no:
        lease lost, participant gone, address suppressed, course closed)."""
        if not self.run.may_send(channel.name):
            return "skipped"
        s = self._start(d, batch)
        began = self.path.begin_send(d.id, self.clock(), participant_id=s.participant_id,
                                     email=s.email, course_id=s.course_id, pending=pending,
                                     bundled=s.bundled)
        return None if began else "skipped"

    def confirm_all(self, group: Sequence[tuple[DeliveryRow, Batch]], channel: Channel,
                    pending: Pending) -> list[str | None]:
        """`confirm` for a group of built deliveries whose sends start together, in one
        commit: for each, None or "skipped" (each row checked on its own)."""
        if not self.run.may_send(channel.name):
            return ["skipped"] * len(group)
        began = self.path.begin_sends([self._start(d, batch) for d, batch in group],
                                      self.clock(), pending)
        return [None if ok else "skipped" for ok in began]

    @staticmethod
    def _start(d: DeliveryRow, batch: Batch) -> outbox.Start:
        p = batch.participants.get(d.participant_id) if d.participant_id is not None else None
        return outbox.Start(d.id, d.participant_id, p.email if p is not None else "",
                            d.course_id, batch.bundled(d))

    def complete(self, d: DeliveryRow, built: Message, result: DeliveryResult, seconds: float,
                 channel: Channel, pending: Pending | None) -> str:
        """Record a send's result (and tell the observer); the delivery's new state."""
        state = self.finish(d, d.attempts + 1, result, channel, to=built.to, pending=pending,
                            bundled=bool(built.meta.get("bundle")))
        if self.run.on_outcome is not None:
            self.run.on_outcome(channel.name, state, seconds)
        return state

    def finish(self, d: DeliveryRow, attempts: int, result: DeliveryResult, channel: Channel,
               to: str | None = None, pending: Pending | None = None,
               bundled: bool = False) -> str:
        """Record the outcome of a send (`attempts` counts it); the new state."""
        now = self.clock()
        decided = outbox.decide(result, attempts, self.config.policy(channel.name), now,
                                self.rng, self.timing, to=to)
        also = None
        if decided.event == "auth":
            def also(c: Connection) -> None:
                self._flag_channel(c, channel.name, decided.error or "credentials refused",
                                   now)
        self.path.record(d.id, decided, now, pending=pending, to=to, also=also,
                         bundled=bundled)
        # One line per delivery is for debugging; -v logs each channel's totals instead.
        log.debug("delivery %s on %s: %s%s", d.id, channel.name, decided.event,
                 f" ({result.error})" if result.error else "")
        return decided.result_state

    def _flag_channel(self, c: Connection, name: str, reason: str, now: datetime) -> None:
        self.run.halted.add(name)
        values = {"needs_attention": True, "reason": reason,
                  "config_hash": self.config.channel_hash(name), "updated_at": now}
        done = c.execute(update(HEALTH).where(HEALTH.c.channel == name).values(**values))
        if not done.rowcount:
            c.execute(insert(HEALTH).values(channel=name, **values))
        log.error("channel %s needs attention: %s", name, reason)


class _ClosedIfUsed(closing[Session]):
    """`contextlib.closing` for a session, skipping the close of one the build did not use
    (no transaction, no object held: nothing to release, no lock). An email built from its
    batch's rows reads nothing; closing costs a few microseconds all the same."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session

    def __exit__(self, *exc: object) -> None:
        s = self.session
        if s.in_transaction() or s.identity_map:  # (`add` begins a transaction)
            s.close()
