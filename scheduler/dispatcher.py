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
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel, DeliveryResult, DeliveryStatus, Message
from scheduler.config import HeraldConfig
from scheduler.messages import MessageBuilder, Skip
from scheduler.models import (
    ChannelHealth,
    Delivery,
    DeliveryEvent,
    DeliveryState,
    Participant,
    Suppression,
)
from scheduler.slots import send_time_hold
from scheduler.timing import next_window_start

log = logging.getLogger(__name__)

CLAIMABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)
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
        workers = max(1, channel.concurrency())
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"send-{name}") as pool:
            while not self._stopping:
                ids = self.claim(name, only, self.batch_size)
                if not ids:
                    break
                states = list(pool.map(lambda i: self.process(i, channel), ids))
                for state in states:
                    outcome[(name, state)] += 1
                if name in self._halted:
                    break
            self.release_all(channel=name)
        return outcome

    def claim(self, channel: str, only: DispatchFilter, limit: int) -> list[int]:
        now = self.clock()
        with self.sessions() as s, s.begin():
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

    def process(self, delivery_id: int, channel: Channel) -> str:
        """Build, send and record one claimed delivery; return its resulting state."""
        if self._stopping or channel.name in self._halted:
            return "skipped"  # still reserved: released when the drain ends
        now = self.clock()
        built: Message | Skip | Exception
        opening: datetime | None = None
        # Read in one short transaction, closed before anything is written (on SQLite a
        # second writer in the same thread would wait for this one forever).
        with self.sessions() as s:
            d = s.get(Delivery, delivery_id)
            if d is None or d.lease_owner != self.owner or d.state not in CLAIMABLE:
                return "skipped"
            try:
                built = self.builder.build(s, d, channel, now)
            except Exception as exc:  # a template bug must not stop the queue
                log.exception("delivery %s: could not build the message", d.id)
                built = exc
            if isinstance(built, Message):
                opening = (self._window_opening(s, d, now) if built.is_email
                           else send_time_hold(self.config, s, channel.name, d.id, now))
        if isinstance(built, Exception):
            error = f"build failed: {type(built).__name__}: {built}"
            return self._finish(delivery_id, DeliveryResult(DeliveryStatus.PERMANENT,
                                                            error=error), channel)
        if isinstance(built, Skip):
            return self._skip(delivery_id, built)
        if opening is not None:
            self._hold(delivery_id, opening)
            return "held"
        if channel.name in self._halted or not self._begin_send(delivery_id):
            return "skipped"
        started = time.monotonic()
        try:
            result = channel.send(built)
        except Exception as exc:  # an adapter bug: we cannot know whether it went out
            log.exception("channel %s raised while sending delivery %s", channel.name,
                          delivery_id)
            result = DeliveryResult(DeliveryStatus.UNKNOWN,
                                    error=f"{type(exc).__name__}: {exc}")
        elapsed = time.monotonic() - started
        state = self._finish(delivery_id, result, channel, to=built.to)
        if self.on_outcome is not None:
            self.on_outcome(channel.name, state, elapsed)
        return state

    def _window_opening(self, s: Session, d: Delivery, now: datetime) -> datetime | None:
        """When a campaign's `local_window` holds this email: the window's next opening."""
        campaign = self.config.campaigns.get(d.campaign)
        if campaign is None or campaign.local_window is None or d.participant_id is None:
            return None
        p = s.get(Participant, d.participant_id)
        try:
            tz = ZoneInfo(p.timezone) if p else self.tz
        except (ValueError, KeyError):  # an unknown zone in old data: the operator's zone
            tz = self.tz
        opening = next_window_start(now, campaign.local_window, tz)
        return opening if opening > now else None

    def _hold(self, delivery_id: int, until: datetime) -> None:
        with self.sessions() as s, s.begin():
            s.execute(update(Delivery).where(Delivery.id == delivery_id).values(
                due_at=until, lease_owner=None, lease_expires_at=None, updated_at=self.clock()))

    def _begin_send(self, delivery_id: int) -> bool:
        now = self.clock()
        with self.sessions() as s, s.begin():
            n = s.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.lease_owner == self.owner,
                    Delivery.state.in_(CLAIMABLE),
                )
                .values(
                    state=DeliveryState.SENDING.value,
                    send_started_at=now,
                    attempts=Delivery.attempts + 1,
                    lease_expires_at=now + self.lease,
                    updated_at=now,
                )
            ).rowcount  # type: ignore[attr-defined]
        return bool(n)

    def _skip(self, delivery_id: int, skip: Skip) -> str:
        now = self.clock()
        with self.sessions() as s, s.begin():
            s.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(
                    state=skip.state.value,
                    lease_owner=None,
                    lease_expires_at=None,
                    last_error=skip.reason,
                    updated_at=now,
                )
            )
            s.add(
                DeliveryEvent(
                    delivery_id=delivery_id, type=skip.state.value, at=now, detail=skip.reason
                )
            )
        return skip.state.value

    def _finish(
        self, delivery_id: int, result: DeliveryResult, channel: Channel, to: str | None = None
    ) -> str:
        now = self.clock()
        values: dict[str, object] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": now,
            "last_error": result.error,
        }
        status = result.status
        with self.sessions() as s, s.begin():
            d = s.get(Delivery, delivery_id)
            assert d is not None
            if status is DeliveryStatus.SENT:
                values.update(
                    state=DeliveryState.SENT.value,
                    sent_at=now,
                    provider_id=result.provider_id,
                    last_error=None,
                )
                event = "sent"
            elif status is DeliveryStatus.UNKNOWN:
                values["state"] = DeliveryState.UNKNOWN.value
                event = "unknown"
            elif status is DeliveryStatus.AUTH:
                # Nothing is wrong with the message: it waits for the operator.
                values.update(state=DeliveryState.PENDING.value, attempts=max(d.attempts - 1, 0))
                self._flag_channel(s, channel.name, result.error or "credentials refused", now)
                event = "auth"
            elif status is DeliveryStatus.TRANSIENT:
                limit = int(self.config.channels[channel.name].raw.get("max_attempts", 8))
                if d.attempts >= limit:
                    values["state"] = DeliveryState.FAILED.value
                    event = "failed"
                else:
                    due = now + backoff(d.attempts, self.rng)
                    if result.retry_after is not None:
                        due = max(result.retry_after, now + timedelta(seconds=1))
                    values.update(state=DeliveryState.RETRYING.value, due_at=due)
                    event = "retry"
            else:
                values["state"] = DeliveryState.FAILED.value
                event = "failed"
                if status is DeliveryStatus.RECIPIENT_REJECTED and to:
                    if s.get(Suppression, to) is None:
                        s.add(
                            Suppression(
                                email=to, reason="bounce", detail=result.error or "", created_at=now
                            )
                        )
                    event = "bounced"
            s.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
            s.add(
                DeliveryEvent(
                    delivery_id=delivery_id, type=event, at=now, detail=result.error or ""
                )
            )
        log.info(
            "delivery %s on %s: %s%s",
            delivery_id,
            channel.name,
            event,
            f" ({result.error})" if result.error else "",
        )
        return "auth" if event == "auth" else str(values.get("state", "pending"))

    def _flag_channel(self, s: Session, name: str, reason: str, now: datetime) -> None:
        self._halted.add(name)
        h = s.get(ChannelHealth, name)
        if h is None:
            h = ChannelHealth(channel=name)
            s.add(h)
        h.needs_attention = True
        h.reason = reason
        h.config_hash = channel_config_hash(self.config, name)
        h.updated_at = now
        log.error("channel %s needs attention: %s", name, reason)
