"""Send-time holds: when a delivery due now must wait after all, and until when.

An email waits while its person has paused their emails (until the pause's last day ends),
and for its campaign's `local_window` in the participant's time zone; a post
waits for its channel's posting window, daily cap and minimum gap, counted against what
really went out (`scheduler.slots`). A held delivery keeps its state and gets a later
`due_at` (`SendPath.hold`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.batch import AnyDelivery, Batch
from scheduler.config import HeraldConfig
from scheduler.slots import next_free, posted_times
from scheduler.timing import next_window_start


def window_opening(config: HeraldConfig, d: AnyDelivery, batch: Batch, now: datetime,
                   default_tz: ZoneInfo) -> datetime | None:
    """When a campaign's `local_window` holds this email: the window's next opening;
    when the person paused their emails: the start of the day the pause ends."""
    if d.participant_id is None:
        return None
    p = batch.participants.get(d.participant_id)
    paused = p.paused_until if p is not None else None
    if paused is not None and paused > now.astimezone(default_tz).date():
        return datetime.combine(paused, time(0), default_tz)
    campaign = config.campaigns.get(d.campaign)
    if campaign is None or campaign.local_window is None:
        return None
    tz = (_zone(p.timezone) if p is not None and p.timezone else None) or default_tz
    opening = next_window_start(now, campaign.local_window, tz)
    return opening if opening > now else None


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    """The zone `name`, or None when unknown (old data: the operator's zone is used).

    Cached: `ZoneInfo` keeps only a few zones loaded, and a send to people in hundreds of
    zones would otherwise read a zone file per email."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return None


def send_time_hold(config: HeraldConfig, session: Session, channel: str, delivery_id: int,
                   now: datetime) -> datetime | None:
    """When a post due now must wait for its channel's window, cap or gap: until when."""
    policy = config.policy(channel)
    if policy.unrestricted:
        return None
    taken = posted_times(session, channel, now - timedelta(days=1, hours=1), delivery_id)
    slot = next_free(policy, now, taken)
    return slot if slot > now else None
