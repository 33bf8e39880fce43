"""The pure cadence decision for one person's due course emails.

Given what is due, what the person already received (course emails, each bundle counted
once), which announcements they had and which course links they clicked: what goes now
(one bundle), what waits and until when, what is cancelled. Caps count per day in the
person's time zone and per rolling seven days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.config.cadence import Cadence

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Due:
    """One due course email row."""

    id: int
    course_id: str
    reminder: bool
    deadline: date
    """The course's registration deadline: nothing is sent after it."""


@dataclass
class History:
    """What the person already received (or is being sent)."""

    sent: list[datetime] = field(default_factory=list)
    """When each course email (a bundle counted once) went out, the last eight days."""
    announced: dict[str, datetime] = field(default_factory=dict)
    """Course → when its announcement last went to the person."""
    clicked: set[str] = field(default_factory=set)
    """Courses whose link the person clicked (not a bot)."""


@dataclass
class Decision:
    send: list[int] = field(default_factory=list)
    """Rows going now, as one email (its lead: the smallest id)."""
    hold: list[tuple[int, datetime, str]] = field(default_factory=list)
    """(row, until, why) put off."""
    cancel: list[tuple[int, str]] = field(default_factory=list)
    """(row, reason) that will never be sent."""


def day_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """The start of `moment`'s day in `tz`, as an aware datetime."""
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def next_allowed(now: datetime, sent: Iterable[datetime], tz: ZoneInfo,
                 cadence: Cadence) -> tuple[datetime, str]:
    """When the caps next let one more email go to the person (`now` if they do now), and
    which cap holds it ("" when none)."""
    week = sorted(t for t in sent if t > now - WEEK)
    start = day_start(now, tz)
    today = sum(1 for t in week if t >= start)
    until, why = now, ""
    if today >= cadence.max_per_day:
        tomorrow = start.date() + timedelta(days=1)
        until, why = datetime.combine(tomorrow, time(0), tzinfo=tz), "max_per_day"
    if len(week) >= cadence.max_per_week:
        freed = week[len(week) - cadence.max_per_week] + WEEK
        if freed > until:
            until, why = freed, "max_per_week"
    return until, why


def decide(due: Sequence[Due], history: History, now: datetime, tz: ZoneInfo,
           operator_tz: ZoneInfo, cadence: Cadence) -> Decision:
    """One person's due rows: one bundle now, or held to the next allowed time; reminders
    spaced from their announcement, dropped after a click; nothing held past a deadline."""
    out = Decision()
    ready: list[Due] = []
    waiting: list[tuple[Due, datetime, str]] = []
    due_announcements = {d.course_id for d in due if not d.reminder}
    for d in due:
        if d.reminder and d.course_id in history.clicked:
            out.cancel.append((d.id, "already clicked the course's link"))
            continue
        announced = history.announced.get(d.course_id)
        if (d.reminder and announced is not None and d.course_id not in due_announcements
                and now < announced + cadence.reminder_after):
            waiting.append((d, announced + cadence.reminder_after, "reminder_after"))
            continue
        ready.append(d)
    if ready:
        until, why = next_allowed(now, history.sent, tz, cadence)
        if until <= now:
            out.send = sorted(d.id for d in ready)
        else:
            waiting.extend((d, until, why) for d in ready)
    for d, until, why in waiting:
        if until.astimezone(operator_tz).date() > d.deadline:
            out.cancel.append((d.id, "registration closed"))
        else:
            out.hold.append((d.id, until, why))
    return out


def relevance_key(topics: Sequence[str], interests: set[str], deadline: date,
                  course_id: str) -> tuple[int, date, str]:
    """A bundle's order: most topics in common first, then the nearest deadline."""
    overlap = sum(1 for t in topics if " ".join(t.split()).casefold() in interests)
    return (-overlap, deadline, course_id)
