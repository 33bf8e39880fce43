"""Courses from iCalendar: one VEVENT per course.

Mapping: UID→id, SUMMARY→title, DTSTART→start_date, DTEND (or DURATION)→end_date,
LOCATION, URL, CATEGORIES→topics, DESCRIPTION, STATUS:CANCELLED→cancelled (as does a
calendar with METHOD:CANCEL), and X-COE, X-COUNTRY, X-REGION, X-LANGUAGES (codes
separated by `;` or `,`), X-MODE, X-REGISTRATION-DEADLINE, X-FEE-USD.

An all-day DTEND is exclusive (RFC 5545), so the course's last day is the day before;
a timed DTEND at midnight likewise ends the day before. Recurring events are refused:
each session of a course is its own course with its own id and dates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar

from scheduler.errors import InputError
from scheduler.ingest.csvfile import decode_utf8
from scheduler.ingest.records import CourseRecord, Problems, UniqueIds, build_course

PROPERTIES = {
    "id": "UID", "title": "SUMMARY", "start_date": "DTSTART", "end_date": "DTEND",
    "location": "LOCATION", "url": "URL", "topics": "CATEGORIES", "description": "DESCRIPTION",
    "status": "STATUS", "coe": "X-COE", "country": "X-COUNTRY", "region": "X-REGION",
    "languages": "X-LANGUAGES", "mode": "X-MODE",
    "registration_deadline": "X-REGISTRATION-DEADLINE", "fee_usd": "X-FEE-USD",
}
_BASIC_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ESCAPES = re.compile(r"\\([\\;,nN])")


def _unescape(value: str) -> str:
    # X- properties come back as raw content (vUnknown): undo RFC 5545 TEXT escaping.
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _scalar(prop: Any) -> Any:
    """A property's Python value: a date or datetime, a duration, or its text."""
    try:
        return prop.dt
    except AttributeError:
        pass
    except ValueError:  # icalendar's BrokenCalendarProperty: keep the text, report it
        return str(prop)
    if isinstance(prop, icalendar.vText | icalendar.vUri):
        return str(prop)
    return _unescape(str(prop))


def _date(value: Any) -> Any:
    """An iCalendar-style basic date (20270118) as a date; anything else unchanged."""
    if isinstance(value, str):
        match = _BASIC_DATE.fullmatch(value.strip())
        if match:
            try:
                return date(*map(int, match.groups()))
            except ValueError:
                return value
    return value


def _last_day(start: Any, end: Any) -> Any:
    """The course's last day from an exclusive iCalendar end."""
    if isinstance(end, datetime):
        if end.time() == time(0) and isinstance(start, datetime) and end > start:
            return end.date() - timedelta(days=1)
        return end.date()
    if isinstance(end, date):
        # A zero-length all-day event (DTEND = DTSTART) is a common slip for one day.
        return end if end == start else end - timedelta(days=1)
    return end


def _event_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1)
            if line.strip().upper() == "BEGIN:VEVENT"]


def _raw_event(event: Any, cancelled_calendar: bool, where: str,
               problems: Problems) -> tuple[dict[str, Any], bool]:
    """The event as course fields, and False if a problem was already reported."""
    raw: dict[str, Any] = {}
    ok = True
    for field, name in PROPERTIES.items():
        prop = event.get(name)
        if prop is None:
            continue
        if name == "CATEGORIES":
            cats = prop if isinstance(prop, list) else [prop]
            raw[field] = [str(c) for cat in cats for c in getattr(cat, "cats", [cat])]
        elif isinstance(prop, list):
            problems.add(where, name, f"appears {len(prop)} times")
            raw[field] = _scalar(prop[0])
            ok = False
        else:
            raw[field] = _scalar(prop)
    for name in ("RRULE", "RDATE", "RECURRENCE-ID"):
        if event.get(name) is not None:
            problems.add(where, name, "recurring events are not supported: "
                         "give each session its own event and UID")
            ok = False
    if "end_date" not in raw and event.get("DURATION") is not None:
        duration = _scalar(event.get("DURATION"))
        start = raw.get("start_date")
        if isinstance(duration, timedelta) and isinstance(start, date):
            raw["end_date"] = start + duration
    start = raw.get("start_date")
    if "end_date" not in raw and isinstance(start, date):
        # RFC 5545: without an end, an all-day event lasts its day, a timed one no time.
        raw["end_date"] = start if isinstance(start, datetime) else start + timedelta(days=1)
    raw["end_date"] = _last_day(start, raw.get("end_date"))
    raw["registration_deadline"] = _date(raw.get("registration_deadline"))
    for key in ("start_date", "end_date"):
        raw[key] = _date(raw.get(key))
    status = str(raw.get("status") or "").strip().upper()
    raw["status"] = "cancelled" if status == "CANCELLED" or cancelled_calendar else "open"
    return raw, ok


def read_courses_ical(data: bytes, name: str) -> list[CourseRecord]:
    """Parse and validate an iCalendar file; raise `InputError` listing every bad event.

    Events are reported as `FILE:LINE: event UID: PROPERTY: reason`, LINE being the
    event's BEGIN:VEVENT line.
    """
    text = decode_utf8(data, name)
    if not text.strip():
        raise InputError([f"{name}: empty file (expected an iCalendar VCALENDAR)"])
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise InputError([f"{name}: not a valid iCalendar file: {exc}"]) from None
    events = [(cal, ev) for cal in calendars for ev in cal.walk("VEVENT")]
    lines = _event_lines(text)
    if len(lines) != len(events):
        lines = []
    problems = Problems()
    records: list[CourseRecord] = []
    ids = UniqueIds()
    for n, (cal, event) in enumerate(events):
        uid = str(event.get("UID", "")).strip() if not isinstance(event.get("UID"), list) else ""
        loc = f"{name}:{lines[n]}" if lines else name
        where = f"{loc}: event {uid}" if uid else f"{loc}: event {n + 1}"
        cancelled = str(cal.get("METHOD", "")).strip().upper() == "CANCEL"
        raw, ok = _raw_event(event, cancelled, where, problems)
        record = build_course(raw, where, problems, labels=PROPERTIES)
        first = f"line {lines[n]}" if lines else f"event {n + 1}"
        unique = ids.check(raw.get("id"), where, first, problems, label="UID")
        if unique and ok and record:
            records.append(record)
    problems.raise_if_any()
    return records
