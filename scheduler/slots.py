"""Posting slots of a social channel: its window, daily cap and minimum gap.

The planner gives each post the next free slot; the dispatcher checks again at send time
against what was really sent, so a post delayed by retries never makes the next one burst.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.config import HeraldConfig, parse_duration, parse_window
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


@dataclass(frozen=True)
class SlotRules:
    tz: ZoneInfo
    window: tuple[time, time] | None
    max_per_day: int | None
    min_gap: timedelta | None

    @property
    def unrestricted(self) -> bool:
        return self.window is None and self.max_per_day is None and self.min_gap is None

    def next_free(self, earliest: datetime, taken: list[datetime]) -> datetime:
        if self.unrestricted:
            return earliest
        return next_slot(earliest, taken, tz=self.tz, window=self.window,
                         max_per_day=self.max_per_day, min_gap=self.min_gap)


def slot_rules(config: HeraldConfig, channel: str) -> SlotRules:
    raw = config.channels[channel].raw
    return SlotRules(
        tz=ZoneInfo(raw.get("timezone") or config.settings.timezone),
        window=parse_window(raw["window"]) if raw.get("window") else None,
        max_per_day=int(raw["max_per_day"]) if raw.get("max_per_day") else None,
        min_gap=parse_duration(raw["min_gap"]) if raw.get("min_gap") else None,
    )


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
    rules = slot_rules(config, channel)
    if rules.unrestricted:  # posts whenever due
        return start
    if start.second or start.microsecond:  # a calendar of whole minutes
        start = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return rules.next_free(start, planned_slots(session, channel, start - timedelta(days=1)))


def send_time_hold(config: HeraldConfig, session: Session, channel: str, delivery_id: int,
                   now: datetime) -> datetime | None:
    """When a post due now must wait for its channel's window, cap or gap: until when."""
    rules = slot_rules(config, channel)
    if rules.unrestricted:
        return None
    taken = posted_times(session, channel, now - timedelta(days=1, hours=1), delivery_id)
    slot = rules.next_free(now, taken)
    return slot if slot > now else None
