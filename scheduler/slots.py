"""Posting slots of a social channel: its window, daily cap and minimum gap.

The planner gives each post the next free slot; the dispatcher checks again at send time
(`scheduler.dispatch.holds`) against what was really sent, so a post delayed by retries
never makes the next one burst. The rules are the channel's typed `ChannelPolicy`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.config import ChannelPolicy, HeraldConfig
from scheduler.models import Delivery, DeliveryState
from scheduler.timing import next_slot

PLANNED_STATES = (
    DeliveryState.PENDING.value,
    DeliveryState.RETRYING.value,
    DeliveryState.SENDING.value,
    DeliveryState.SENT.value,
    DeliveryState.UNKNOWN.value,
)
POSTED_STATES = (DeliveryState.SENDING.value, DeliveryState.SENT.value,
                 DeliveryState.UNKNOWN.value)


def next_free(policy: ChannelPolicy, earliest: datetime, taken: list[datetime]) -> datetime:
    """The first moment at or after `earliest` that `policy` allows, given `taken` slots."""
    if policy.unrestricted:
        return earliest
    return next_slot(earliest, taken, tz=policy.tz, window=policy.window,
                     max_per_day=policy.max_per_day, min_gap=policy.min_gap)


def planned_slots(session: Session, channel: str, since: datetime) -> list[datetime]:
    """Slots given to posts on `channel` from `since` on (sent time where sent)."""
    rows = session.execute(
        select(Delivery.due_at, Delivery.sent_at, Delivery.send_started_at).where(
            Delivery.channel == channel,
            Delivery.participant_id.is_(None),
            Delivery.state.in_(PLANNED_STATES),
            or_(Delivery.due_at >= since, Delivery.sent_at >= since),
        )
    )
    return [sent or started or due for due, sent, started in rows]


def posted_times(session: Session, channel: str, since: datetime, exclude: int) -> list[datetime]:
    """When posts on `channel` really went out (or began to) from `since` on."""
    rows = session.execute(
        select(Delivery.sent_at, Delivery.send_started_at).where(
            Delivery.channel == channel,
            Delivery.participant_id.is_(None),
            Delivery.state.in_(POSTED_STATES),
            Delivery.id != exclude,
            or_(Delivery.sent_at >= since, Delivery.send_started_at >= since),
        )
    )
    times: list[datetime] = []
    for sent, started in rows:
        moment = sent or started
        if moment is not None:
            times.append(moment)
    return times


def take_slot(config: HeraldConfig, session: Session, channel: str, earliest: datetime,
              now: datetime) -> datetime:
    """The next free posting slot on `channel` at or after `earliest` (and `now`)."""
    start = max(earliest, now)
    policy = config.policy(channel)
    if policy.unrestricted:  # posts whenever due
        return start
    if start.second or start.microsecond:  # a calendar of whole minutes
        start = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return next_free(policy, start, planned_slots(session, channel, start - timedelta(days=1)))
