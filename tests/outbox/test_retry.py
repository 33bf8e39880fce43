"""The retry decision, a pure function: no database, no clock, a seeded random source."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from channels.base import DeliveryResult, DeliveryStatus
from scheduler.config import ChannelPolicy
from scheduler.outbox import RetryTiming, decide

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
POLICY = ChannelPolicy(tz=ZoneInfo("UTC"), max_attempts=3)


def result(status: DeliveryStatus, **kw: object) -> DeliveryResult:
    return DeliveryResult(status, **kw)  # type: ignore[arg-type]


def test_sent_keeps_the_provider_id_and_clears_the_error() -> None:
    out = decide(result(DeliveryStatus.SENT, provider_id="<m1>"), 1, POLICY, NOW,
                 random.Random(1))
    assert (out.state, out.event, out.error, out.urgent) == ("sent", "sent", None, False)
    assert out.changes == {"sent_at": NOW, "provider_id": "<m1>"}


def test_a_transient_failure_backs_off_exponentially_with_jitter_then_fails() -> None:
    timing = RetryTiming(base=timedelta(minutes=1), cap=timedelta(hours=6))
    waits = []
    for attempts in (1, 2):
        out = decide(result(DeliveryStatus.TRANSIENT, error="421 busy"), attempts, POLICY,
                     NOW, random.Random(7), timing)
        assert (out.state, out.event, out.error) == ("retrying", "retry", "421 busy")
        waits.append(out.changes["due_at"] - NOW)
    base = timedelta(minutes=1)
    assert base / 2 <= waits[0] <= base
    assert base <= waits[1] <= 2 * base  # doubled, same jitter draw
    assert waits[1] == 2 * waits[0]
    last = decide(result(DeliveryStatus.TRANSIENT, error="421 busy"), 3, POLICY, NOW,
                  random.Random(7), timing)
    assert (last.state, last.event, last.changes) == ("failed", "failed", {})


def test_the_backoff_is_capped_and_a_retry_after_wins() -> None:
    timing = RetryTiming(base=timedelta(minutes=1), cap=timedelta(minutes=10))
    many = ChannelPolicy(tz=ZoneInfo("UTC"), max_attempts=50)
    out = decide(result(DeliveryStatus.TRANSIENT), 30, many, NOW, random.Random(3), timing)
    assert out.changes["due_at"] - NOW <= timedelta(minutes=10)
    later = NOW + timedelta(hours=2)
    out = decide(result(DeliveryStatus.TRANSIENT, retry_after=later), 1, many, NOW,
                 random.Random(3), timing)
    assert out.changes["due_at"] == later
    past = decide(result(DeliveryStatus.TRANSIENT, retry_after=NOW - timedelta(hours=1)), 1,
                  many, NOW, random.Random(3), timing)
    assert past.changes["due_at"] == NOW + timedelta(seconds=1)


def test_refused_credentials_wait_for_the_operator_without_using_an_attempt() -> None:
    out = decide(result(DeliveryStatus.AUTH, error="535 denied"), 2, POLICY, NOW,
                 random.Random(1))
    assert (out.state, out.event, out.urgent, out.result_state) == (
        "pending", "auth", True, "auth")
    assert out.changes == {"attempts": 1}


@pytest.mark.parametrize(("to", "event", "urgent"), [
    ("gone@example.org", "bounced", True),
    (None, "failed", False),  # a post: nobody to suppress
])
def test_a_refused_recipient_bounces_only_for_an_email(to: str | None, event: str,
                                                       urgent: bool) -> None:
    out = decide(result(DeliveryStatus.RECIPIENT_REJECTED, error="550 no such user"), 1,
                 POLICY, NOW, random.Random(1), to=to)
    assert (out.state, out.event, out.urgent) == ("failed", event, urgent)


def test_unknown_and_permanent() -> None:
    unknown = decide(result(DeliveryStatus.UNKNOWN, error="reset"), 1, POLICY, NOW,
                     random.Random(1))
    assert (unknown.state, unknown.event, unknown.error) == ("unknown", "unknown", "reset")
    permanent = decide(result(DeliveryStatus.PERMANENT, error="too long"), 1, POLICY, NOW,
                       random.Random(1))
    assert (permanent.state, permanent.event) == ("failed", "failed")
