"""When messages are due: course-relative moments, cron fires, local windows, social slots.

All results are timezone-aware UTC. Course dates are calendar dates; a date's moment
is its midnight in the operator's time zone (settings `timezone`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

COURSE_DATE_FIELDS = ("start_date", "end_date", "registration_deadline")


def date_moment(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of `day` in `tz`, as UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def today_in(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def before_window(field_date: date, offset: timedelta, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A `before FIELD DURATION` rule's moment and the end of its validity.

    The message is due from the moment on, and still sent while the date it counts
    from is in the future (a course learnt late is still announced); never after.
    """
    end = date_moment(field_date, tz)
    return end - offset, end


def last_cron_fire(expr: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The latest fire time of a crontab expression at or before `now` (UTC), if any in a year."""
    trigger = CronTrigger.from_crontab(expr, timezone=tz)
    for lookback in (
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=8),
        timedelta(days=32),
        timedelta(days=367),
    ):
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        while True:
            nxt = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
            if nxt is None or nxt > now:
                return fire.astimezone(UTC)
            fire = nxt
    return None


def next_cron_fire(expr: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    fire = CronTrigger.from_crontab(expr, timezone=tz).get_next_fire_time(None, now)
    return fire.astimezone(UTC) if fire else None


def in_window(moment: datetime, window: tuple[time, time], tz: ZoneInfo) -> bool:
    """Whether `moment` falls in the daily window [start, end) in `tz` (may span midnight)."""
    start, end = window
    t = moment.astimezone(tz).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def next_window_start(moment: datetime, window: tuple[time, time], tz: ZoneInfo) -> datetime:
    """`moment` if it is inside the window, else the window's next opening (UTC)."""
    if in_window(moment, window, tz):
        return moment
    local = moment.astimezone(tz)
    candidate = datetime.combine(local.date(), window[0], tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), window[0], tzinfo=tz)
    return candidate.astimezone(UTC)


def next_slot(
    earliest: datetime,
    taken: Iterable[datetime],
    *,
    tz: ZoneInfo,
    window: tuple[time, time] | None,
    max_per_day: int | None,
    min_gap: timedelta | None,
) -> datetime:
    """The first moment ≥ `earliest` that respects a posting window, a daily cap and a gap.

    `taken` are the slots already given to other posts on the same channel. Days are
    counted in the channel's time zone.
    """
    taken_sorted = sorted(taken)
    per_day: dict[date, int] = {}
    for t in taken_sorted:
        d = t.astimezone(tz).date()
        per_day[d] = per_day.get(d, 0) + 1
    candidate = earliest
    for _ in range(10_000):
        if window is not None:
            candidate = next_window_start(candidate, window, tz)
        day = candidate.astimezone(tz).date()
        if max_per_day is not None and per_day.get(day, 0) >= max_per_day:
            candidate = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(
                UTC
            )
            continue
        if min_gap is not None:
            clash = [t for t in taken_sorted if abs(t - candidate) < min_gap]
            if clash:
                candidate = max(clash) + min_gap
                continue
        return candidate
    raise RuntimeError("no free posting slot found within 10,000 steps")
