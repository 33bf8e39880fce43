"""The retry decision: a send's result → the delivery's next state. Pure (no database).

`decide(result, attempts, policy, now, rng)` says what the outbox records: the state, the
event, the error kept, the columns that change, and whether it must be written at once
(`urgent`: a refused credential or recipient, whose flag or suppression must hold before
anything else is sent).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from channels.base import DeliveryResult, DeliveryStatus
from scheduler.config.policy import ChannelPolicy
from scheduler.models import DeliveryState


@dataclass(frozen=True)
class RetryTiming:
    """Exponential backoff: `base` after the first failure, doubling, at most `cap`."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=6)

    def backoff(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after `attempts` sends, with full jitter in [d/2, d]."""
        d = min(self.base * (2 ** max(attempts - 1, 0)), self.cap)
        return d * (0.5 + rng.random() / 2)


@dataclass(frozen=True)
class Outcome:
    """What to record for one send."""

    state: str
    event: str
    error: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    """Columns set besides the state: sent_at, provider_id, due_at, attempts."""
    urgent: bool = False

    @property
    def result_state(self) -> str:
        """What the dispatcher reports: the state, or `auth` for a refused credential."""
        return "auth" if self.event == "auth" else self.state


def decide(result: DeliveryResult, attempts: int, policy: ChannelPolicy, now: datetime,
           rng: random.Random, timing: RetryTiming = RetryTiming(), *,
           to: str | None = None) -> Outcome:
    """The outcome of a send that `attempts` counts (this one included).

    `to` is the recipient of an email: a refused one is `bounced` (and suppressed).
    """
    status = result.status
    error = result.error
    if status is DeliveryStatus.SENT:
        return Outcome(DeliveryState.SENT.value, "sent", None,
                       {"sent_at": now, "provider_id": result.provider_id})
    if status is DeliveryStatus.UNKNOWN:
        return Outcome(DeliveryState.UNKNOWN.value, "unknown", error)
    if status is DeliveryStatus.AUTH:
        # Nothing is wrong with the message: it waits for the operator.
        return Outcome(DeliveryState.PENDING.value, "auth", error,
                       {"attempts": max(attempts - 1, 0)}, urgent=True)
    if status is DeliveryStatus.TRANSIENT:
        if attempts >= policy.max_attempts:
            return Outcome(DeliveryState.FAILED.value, "failed", error)
        due = now + timing.backoff(attempts, rng)
        if result.retry_after is not None:
            due = max(result.retry_after, now + timedelta(seconds=1))
        return Outcome(DeliveryState.RETRYING.value, "retry", error, {"due_at": due})
    if status is DeliveryStatus.RECIPIENT_REJECTED and to:
        return Outcome(DeliveryState.FAILED.value, "bounced", error, urgent=True)
    return Outcome(DeliveryState.FAILED.value, "failed", error)
