"""Claim due deliveries under a lease → build → channel.send → record the outcome.

A claim reserves a batch (lease owner + expiry, state unchanged). Just before its send
a delivery becomes `sending` in its own commit; only such a row can turn `unknown`
when its lease expires (the process died mid-send). A reserved row whose send never
began simply becomes claimable again when its lease runs out.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from itertools import repeat
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler import outbox_sql as sql
from scheduler.batch import Batch, load_batch
from scheduler.config import HeraldConfig
from scheduler.db import insert_ignore
from scheduler.messages import MessageBuilder, Skip
from scheduler.models import (
    ChannelHealth,
    Delivery,
    DeliveryEvent,
    DeliveryState,
    Suppression,
)
from scheduler.outbox_writer import OutboxWriter, Pending, Writes
from scheduler.prepared import PreparedCache
from scheduler.slots import send_time_hold
from scheduler.timing import next_window_start

log = logging.getLogger(__name__)

CLAIMABLE = sql.CLAIMABLE
HEALTH = cast(Table, ChannelHealth.__table__)
SUPPRESSIONS = cast(Table, Suppression.__table__)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


def new_owner() -> str:
    """A lease owner id: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when `owner` is a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with full jitter in [d/2, d]."""
    d = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)
    return d * (0.5 + rng.random() / 2)


def channel_config_hash(config: HeraldConfig, name: str) -> str:
    raw = config.channels[name].raw
    blob = json.dumps(raw, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class DispatchFilter:
    campaign: str | None = None
    course: str | None = None
    channel: str | None = None


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
    ) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        assert isinstance(bind, Engine), "the session factory must be bound to an engine"
        self.engine: Engine = bind
        self._prepared = PreparedCache(bind.dialect)  # the per-delivery writes
        # SQLite has one writer at a time, and a thread that finds the lock taken sleeps
        # in the busy handler (milliseconds); this process's workers queue here instead.
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if bind.dialect.name == "sqlite" else nullcontext())
        self.config = config
        self.channels = channels
        self.builder = builder
        self.clock = clock
        self.owner = owner or new_owner()
        self.lease = lease
        self.batch_size = batch_size
        self.rng = random.Random()
        self.tz = ZoneInfo(config.settings.timezone)
        self._stopping = False
        self._halted: set[str] = set()  # channels whose credentials were refused this run
        # Observer (the daemon's metrics): (channel, resulting state, send seconds).
        self.on_outcome: Callable[[str, str, float], None] | None = None

    def stop(self) -> None:
        """Stop claiming; sends under way finish."""
        self._stopping = True

    # -- recovery -----------------------------------------------------------

    def recover(self) -> Counter[str]:
        """Settle leases of dead or expired owners: `sending` → `unknown`, others freed."""
        now = self.clock()
        found: Counter[str] = Counter()
        with self.sessions() as s, s.begin():
            rows = s.execute(
                select(
                    Delivery.id, Delivery.state, Delivery.lease_owner, Delivery.lease_expires_at
                ).where(Delivery.lease_owner.is_not(None))
            ).all()
            for did, state, owner, expires in rows:
                if owner == self.owner:
                    continue
                if not (expires is not None and expires < now) and not owner_is_dead(owner or ""):
                    continue
                if state == DeliveryState.SENDING.value:
                    s.execute(
                        update(Delivery)
                        .where(Delivery.id == did)
                        .values(
                            state=DeliveryState.UNKNOWN.value,
                            lease_owner=None,
                            lease_expires_at=None,
                            updated_at=now,
                            last_error="interrupted mid-send; not resent automatically",
                        )
                    )
                    s.add(
                        DeliveryEvent(
                            delivery_id=did,
                            type="unknown",
                            at=now,
                            detail="lease expired while sending",
                        )
                    )
                    found["unknown"] += 1
                else:
                    s.execute(
                        update(Delivery)
                        .where(Delivery.id == did)
                        .values(lease_owner=None, lease_expires_at=None)
                    )
                    found["released"] += 1
        return found

    # -- the loop -----------------------------------------------------------

    def usable_channels(self, only: DispatchFilter) -> list[str]:
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
            if h is not None and h.config_hash == channel_config_hash(self.config, name):
                log.warning("channel %s needs attention (%s); its deliveries wait", name, h.reason)
                continue
            names.append(name)
        return names

    def run_once(self, only: DispatchFilter | None = None) -> Counter[tuple[str, str]]:
        """Dispatch everything due now; return (channel, final state) counts."""
        only = only or DispatchFilter()
        outcome: Counter[tuple[str, str]] = Counter()
        self._halted.clear()  # the lasting flag is ChannelHealth, read just below
        for name in self.usable_channels(only):
            outcome.update(self.drain_channel(name, only))
        return outcome

    def dispatch_channel(self, name: str) -> Counter[tuple[str, str]]:
        """Everything due on one channel (the daemon runs one such worker per channel)."""
        self._halted.discard(name)  # the lasting flag is ChannelHealth, read just below
        if name not in self.usable_channels(DispatchFilter(channel=name)):
            return Counter()
        return self.drain_channel(name, DispatchFilter())

    def drain_channel(self, name: str, only: DispatchFilter) -> Counter[tuple[str, str]]:
        channel = self.channels[name]
        outcome: Counter[tuple[str, str]] = Counter()
        workers = 1 if channel.streams else max(1, channel.concurrency())
        work = self._stream if channel.streams else self._work
        feed = _Feed(self, name, only)
        try:
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix=f"send-{name}") as pool:
                futures = [pool.submit(work, feed, channel) for _ in range(workers)]
                for future in futures:
                    for state in future.result():
                        outcome[(name, state)] += 1
        finally:
            self.release_all(channel=name)
        return outcome

    def claim(self, channel: str, only: DispatchFilter, limit: int) -> list[int]:
        now = self.clock()
        with self._write_lock, self.sessions() as s, s.begin():
            q = (
                select(Delivery.id)
                .where(
                    Delivery.channel == channel,
                    Delivery.state.in_(CLAIMABLE),
                    Delivery.due_at <= now,
                    or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at < now),
                )
                .order_by(Delivery.due_at, Delivery.id)
                .limit(limit)
            )
            if only.campaign:
                q = q.where(Delivery.campaign == only.campaign)
            if only.course:
                q = q.where(Delivery.course_id == only.course)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            ids = list(s.scalars(q))
            if ids:
                s.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids))
                    .values(lease_owner=self.owner, lease_expires_at=now + self.lease)
                )
        return ids

    def release(self, ids: Iterable[int]) -> None:
        with self.sessions() as s, s.begin():
            s.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(list(ids)),
                    Delivery.lease_owner == self.owner,
                    Delivery.state.in_(CLAIMABLE),
                )
                .values(lease_owner=None, lease_expires_at=None)
            )

    def release_all(self, channel: str | None = None) -> None:
        """Free this owner's reserved rows (of one channel, or all) whose send never began."""
        q = update(Delivery).where(Delivery.lease_owner == self.owner,
                                   Delivery.state.in_(CLAIMABLE))
        if channel is not None:
            q = q.where(Delivery.channel == channel)
        with self.sessions() as s, s.begin():
            s.execute(q.values(lease_owner=None, lease_expires_at=None))

    # -- one delivery -------------------------------------------------------

    def _work(self, feed: Iterator[tuple[Delivery, Batch]], channel: Channel) -> list[str]:
        """One worker: takes deliveries from the shared `feed` until it ends; their states.

        Each outcome is written in the same commit that marks the worker's next delivery
        `sending` (one commit a message instead of two); the last one when the feed ends.
        A crash in between leaves that one delivery `sending`, hence `unknown`, exactly as
        a crash during its send would: per worker, at most one delivery is ever in doubt.
        """
        states: list[str] = []
        with self._outbox() as (pending, session):
            for d, batch in feed:
                states.append(self.process(d, channel, batch, pending, session))
        return states

    def _stream(self, feed: Iterator[tuple[Delivery, Batch]], channel: Channel) -> list[str]:
        """The one worker of a channel that `streams`: it builds and marks `sending` the next
        delivery whenever the channel can start a send, while the others are in flight.

        While the channel waits for its sends, the next delivery is built ahead (claimed,
        rendered; not yet `sending`), so the wait is not lost; it is marked `sending`, with
        the same checks as ever, only when a send can start. Outcomes are written as in
        `_work`, with the next `sending` commit. A crash leaves at most the deliveries in
        flight, and those whose outcome was not yet written, in `sending` (hence
        `unknown`): no more than `concurrency()` plus the pending ones. One built ahead
        but never begun is only reserved, like those the feed still holds.
        """
        states: list[str] = []
        in_flight: dict[int, tuple[Delivery, Message]] = {}
        feed_error: list[BaseException] = []
        staged: list[tuple[Delivery, Batch, Message]] = []  # at most one, built ahead
        ended = False

        def build_next(pending: Pending, session: Session) -> None:
            """Build the feed's next delivery to be sent into `staged`; `ended` at its end."""
            nonlocal ended
            try:
                for d, batch in feed:
                    built = self._build(d, channel, batch, pending, session)
                    if isinstance(built, str):
                        states.append(built)
                        continue
                    staged.append((d, batch, built))
                    return
            except Exception as exc:  # the sends in flight still end and are recorded
                feed_error.append(exc)
            ended = True

        def ahead(pending: Pending, session: Session) -> Callable[[], Message | None]:
            def build_ahead() -> Message | None:
                if staged or ended:
                    return None
                build_next(pending, session)
                return staged[0][2] if staged else None
            return build_ahead

        def ready(pending: Pending, session: Session) -> Iterator[tuple[int, Message]]:
            while True:
                if not staged and not ended:
                    build_next(pending, session)
                if not staged:
                    return
                d, batch, built = staged.pop()
                state = self._confirm(d, channel, batch, pending)
                if state is not None:
                    states.append(state)
                    continue
                in_flight[d.id] = (d, built)
                yield d.id, built

        with self._outbox() as (pending, session):
            try:
                for sent in channel.send_stream(ready(pending, session),
                                                ahead=ahead(pending, session)):
                    d, built = in_flight.pop(sent.key)
                    states.append(self._complete(d, built, sent.result, sent.seconds,
                                                 channel, pending))
            except Exception as exc:  # an adapter bug: the sends in flight are in doubt
                log.exception("channel %s raised while sending", channel.name)
                doubt = DeliveryResult(DeliveryStatus.UNKNOWN,
                                       error=f"{type(exc).__name__}: {exc}")
                for d, built in in_flight.values():
                    states.append(self._complete(d, built, doubt, 0.0, channel, pending))
        if feed_error:
            raise feed_error[0]
        return states

    @contextmanager
    def _outbox(self) -> Iterator[tuple[Pending, Session]]:
        """A worker's queue of outcomes (what is still queued is committed at the end) and
        its reading session, reused from message to message."""
        writer = OutboxWriter(self.engine, self._prepared, self._write_lock)
        session = self.sessions()
        try:
            pending = Pending(writer)
            try:
                yield pending, session
            finally:
                if pending:
                    pending.flush()
        finally:
            session.close()
            writer.close()

    @contextmanager
    def _txn(self, pending: Pending | None) -> Iterator[Connection]:
        """A transaction, begun after the outcomes still `pending` are committed."""
        if pending:
            pending.flush()
        with self._write_lock, self.engine.begin() as c:
            yield c

    def _run(self, c: Connection, writes: Writes) -> int:
        """Run prepared `writes` inside `c`'s transaction; the last row count."""
        cursor = c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            return self._prepared.execute_all(cursor, writes)
        finally:
            cursor.close()

    def _write(self, writes: Writes, pending: Pending | None = None) -> int:
        """Run `writes` in one commit (with the outcomes still `pending` first)."""
        if pending is not None:
            return pending.flush(writes)
        with self._txn(None) as c:
            return self._run(c, writes)

    def process(self, d: Delivery, channel: Channel, batch: Batch,
                pending: Pending | None = None, session: Session | None = None) -> str:
        """Build, send and record one claimed delivery (read with `batch`); its new state.

        With `pending`, the outcome is queued there for the worker's next commit. `session`
        (a worker's, reused from message to message) is closed before anything is written.
        """
        built = self._prepare(d, channel, batch, pending, session)
        if isinstance(built, str):
            return built
        started = time.monotonic()
        try:
            result = channel.send(built)
        except Exception as exc:  # an adapter bug: we cannot know whether it went out
            log.exception("channel %s raised while sending delivery %s", channel.name, d.id)
            result = DeliveryResult(DeliveryStatus.UNKNOWN,
                                    error=f"{type(exc).__name__}: {exc}")
        return self._complete(d, built, result, time.monotonic() - started, channel, pending)

    def _prepare(self, d: Delivery, channel: Channel, batch: Batch, pending: Pending | None,
                 session: Session | None) -> Message | str:
        """Build one delivery and mark it `sending`: the message to send, or (when it is
        not to be sent now) the state it was left in."""
        built = self._build(d, channel, batch, pending, session)
        if isinstance(built, str):
            return built
        return self._confirm(d, channel, batch, pending) or built

    def _build(self, d: Delivery, channel: Channel, batch: Batch, pending: Pending | None,
               session: Session | None) -> Message | str:
        """Build one delivery's message, not yet marked `sending`; or (when it is not to be
        sent now) the state it was left in."""
        if self._stopping or channel.name in self._halted:
            return "skipped"  # still reserved: released when the drain ends
        if d.lease_owner != self.owner or d.state not in CLAIMABLE:
            return "skipped"
        now = self.clock()
        built: Message | Skip | Exception
        opening: datetime | None = None
        # A session only for what the batch does not hold (digests, posts); it begins no
        # transaction unless used, and is closed before anything is written (on SQLite a
        # second writer in the same thread would wait for this one forever).
        s = session or self.sessions()
        with closing(s):
            try:
                built = self.builder.build(s, d, channel, now, batch)
            except Exception as exc:  # a template bug must not stop the queue
                log.exception("delivery %s: could not build the message", d.id)
                built = exc
            if isinstance(built, Message):
                opening = (self._window_opening(d, batch, now) if built.is_email
                           else send_time_hold(self.config, s, channel.name, d.id, now))
        if isinstance(built, Exception):
            error = f"build failed: {type(built).__name__}: {built}"
            return self._finish(d, d.attempts, DeliveryResult(DeliveryStatus.PERMANENT,
                                                              error=error), channel,
                                pending=pending)
        if isinstance(built, Skip):
            return self._skip(d.id, built, pending)
        if opening is not None:
            self._hold(d.id, opening, pending)
            return "held"
        return built

    def _confirm(self, d: Delivery, channel: Channel, batch: Batch,
                 pending: Pending | None) -> str | None:
        """Mark a built delivery `sending` as its send starts: None, or "skipped" when it
        must not go out after all (stopping, the channel halted, or `_begin_send` says no)."""
        if self._stopping or channel.name in self._halted:
            return "skipped"
        if not self._begin_send(d, batch, pending):
            return "skipped"
        return None

    def _complete(self, d: Delivery, built: Message, result: DeliveryResult, seconds: float,
                  channel: Channel, pending: Pending | None) -> str:
        """Record a send's result (and tell the observer); the delivery's new state."""
        state = self._finish(d, d.attempts + 1, result, channel, to=built.to, pending=pending)
        if self.on_outcome is not None:
            self.on_outcome(channel.name, state, seconds)
        return state

    def _window_opening(self, d: Delivery, batch: Batch, now: datetime) -> datetime | None:
        """When a campaign's `local_window` holds this email: the window's next opening;
        when the person paused their emails: the start of the day the pause ends."""
        if d.participant_id is None:
            return None
        p = batch.participants.get(d.participant_id)
        paused = p.paused_until if p is not None else None
        if paused is not None and paused > now.astimezone(self.tz).date():
            return datetime.combine(paused, clock_time(0), self.tz)
        campaign = self.config.campaigns.get(d.campaign)
        if campaign is None or campaign.local_window is None:
            return None
        try:
            tz = ZoneInfo(p.timezone) if p else self.tz
        except (ValueError, KeyError):  # an unknown zone in old data: the operator's zone
            tz = self.tz
        opening = next_window_start(now, campaign.local_window, tz)
        return opening if opening > now else None

    def _hold(self, delivery_id: int, until: datetime, pending: Pending | None = None) -> None:
        with self._txn(pending) as c:
            c.execute(update(sql.DELIVERIES).where(sql.DELIVERIES.c.id == delivery_id).values(
                due_at=until, lease_owner=None, lease_expires_at=None, updated_at=self.clock()))

    def _begin_send(self, d: Delivery, batch: Batch, pending: Pending | None = None) -> bool:
        """Mark `d` sending in its own commit; False when it must not go out after all.

        The same statement checks again what the batch read earlier: the lease, the state,
        and for an email that the participant is still active, the address not suppressed
        and the course still open. A delivery refused here stays reserved until the drain
        ends; the next run settles it through the ordinary checks.
        """
        now = self.clock()
        p = batch.participants.get(d.participant_id) if d.participant_id is not None else None
        email = d.participant_id is not None
        course = email and d.course_id is not None
        params = {"p_id": d.id, "p_owner": self.owner, "p_now": now,
                  "p_expires": now + self.lease, "p_participant": d.participant_id,
                  "p_email": p.email if p is not None else "", "p_course": d.course_id}
        return bool(self._write([(sql.BEGIN_SEND[(email, course)], params)], pending))

    def _skip(self, delivery_id: int, skip: Skip, pending: Pending | None = None) -> str:
        self._write(self._record(delivery_id, skip.state.value, skip.state.value, skip.reason),
                    pending)
        return skip.state.value

    def _record(self, delivery_id: int, state: str, event: str, error: str | None,
                **changes: object) -> Writes:
        """The writes that set an outcome, free the lease and add the event."""
        now = self.clock()
        params = {"p_id": delivery_id, "p_state": state, "p_now": now, "p_error": error,
                  "p_sent_at": None, "p_provider_id": None, "p_due_at": None,
                  "p_attempts": None, **{f"p_{k}": v for k, v in changes.items()}}
        event_row = {"p_delivery_id": delivery_id, "p_type": event, "p_at": now,
                     "p_detail": error or ""}
        return [(sql.FINISH, params), (sql.EVENT, event_row)]

    def _finish(
        self, d: Delivery, attempts: int, result: DeliveryResult, channel: Channel,
        to: str | None = None, pending: Pending | None = None,
    ) -> str:
        """Record the outcome of a send (`attempts` counts it); the new state.

        Written at once, or with `pending` queued for the worker's next commit. A refused
        credential or recipient is written at once: the flag and the suppression must hold
        before anything else is sent.
        """
        now = self.clock()
        status = result.status
        error = result.error
        changes: dict[str, object] = {}
        urgent = False
        if status is DeliveryStatus.SENT:
            state, event, error = DeliveryState.SENT.value, "sent", None
            changes.update(sent_at=now, provider_id=result.provider_id)
        elif status is DeliveryStatus.UNKNOWN:
            state, event = DeliveryState.UNKNOWN.value, "unknown"
        elif status is DeliveryStatus.AUTH:
            # Nothing is wrong with the message: it waits for the operator.
            state, event, urgent = DeliveryState.PENDING.value, "auth", True
            changes["attempts"] = max(attempts - 1, 0)
        elif status is DeliveryStatus.TRANSIENT:
            limit = int(self.config.channels[channel.name].raw.get("max_attempts", 8))
            if attempts >= limit:
                state, event = DeliveryState.FAILED.value, "failed"
            else:
                due = now + backoff(attempts, self.rng)
                if result.retry_after is not None:
                    due = max(result.retry_after, now + timedelta(seconds=1))
                state, event = DeliveryState.RETRYING.value, "retry"
                changes["due_at"] = due
        else:
            state, event = DeliveryState.FAILED.value, "failed"
            if status is DeliveryStatus.RECIPIENT_REJECTED and to:
                event, urgent = "bounced", True
        writes = self._record(d.id, state, event, error, **changes)
        if pending is not None and not urgent:
            pending.extend(writes)
        else:
            with self._txn(pending) as c:
                if event == "auth":
                    self._flag_channel(c, channel.name, error or "credentials refused", now)
                if event == "bounced":
                    c.execute(insert_ignore(SUPPRESSIONS, c.dialect.name).values(
                        email=to, reason="bounce", detail=error or "", created_at=now))
                self._run(c, writes)
        log.info("delivery %s on %s: %s%s", d.id, channel.name, event,
                 f" ({result.error})" if result.error else "")
        return "auth" if event == "auth" else state

    def _flag_channel(self, c: Connection, name: str, reason: str, now: datetime) -> None:
        self._halted.add(name)
        values = {"needs_attention": True, "reason": reason,
                  "config_hash": channel_config_hash(self.config, name), "updated_at": now}
        done = c.execute(update(HEALTH).where(HEALTH.c.channel == name).values(**values))
        if not done.rowcount:
            c.execute(insert(HEALTH).values(channel=name, **values))
        log.error("channel %s needs attention: %s", name, reason)


class _Feed:
    """A channel's due deliveries for its workers, claimed a batch at a time; thread-safe.

    The workers share it for the whole drain: one that finds the batch used up claims the
    next, so no worker waits for the others to finish theirs. It ends when nothing more is
    due, when the dispatcher stops, or when the channel's credentials were refused.
    """

    def __init__(self, dispatcher: Dispatcher, channel: str, only: DispatchFilter) -> None:
        self._dispatcher = dispatcher
        self._channel = channel
        self._only = only
        self._lock = threading.Lock()
        self._items: Iterator[tuple[Delivery, Batch]] = iter(())
        self._done = False

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> tuple[Delivery, Batch]:
        d = self._dispatcher
        with self._lock:
            while True:
                item = next(self._items, None)
                if item is not None:
                    return item
                if self._done or d._stopping or self._channel in d._halted:
                    raise StopIteration
                ids = d.claim(self._channel, self._only, d.batch_size)
                if not ids:
                    self._done = True
                    raise StopIteration
                with d.sessions() as s:
                    batch = load_batch(s, ids)
                self._items = zip(batch.deliveries, repeat(batch))
