"""Courses from iCalendar: the property mapping, exclusive DTEND, and located errors."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.errors import InputError
from scheduler.ingest.ical_reader import read_courses_ical

PROPS = {
    "UID": "COE-1",
    "SUMMARY": "Spectrum\\, the basics",
    "DTSTART;VALUE=DATE": "20270301",
    "DTEND;VALUE=DATE": "20270306",
    "LOCATION": "Nairobi\\, Kenya",
    "URL": "https://academy.example.org/c/1",
    "CATEGORIES": "spectrum management,Policy and Regulation",
    "X-COE": "Test Centre",
    "X-COUNTRY": "Kenya",
    "X-REGION": "Africa",
    "X-LANGUAGES": "en\\;fr",
    "X-MODE": "face_to_face",
    "X-REGISTRATION-DEADLINE": "2027-02-15",
    "X-FEE-USD": "400",
}


def event(**changes: str | None) -> list[str]:
    """VEVENT lines; a change maps a property (with `-` for `_`) to a value, None drops it."""
    props = dict(PROPS)
    for key, value in changes.items():
        key = key.replace("_", "-")
        props.pop(key, None)
        if value is not None:
            props[key] = value
    return ["BEGIN:VEVENT", *(f"{k}:{v}" for k, v in props.items()), "END:VEVENT"]


def calendar(*events: list[str], method: str | None = None) -> bytes:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//herald//EN"]
    if method:
        head.append(f"METHOD:{method}")
    lines = head + [ln for ev in events for ln in ev] + ["END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def errors(data: bytes) -> list[str]:
    with pytest.raises(InputError) as info:
        read_courses_ical(data, "courses.ics")
    return info.value.errors


def test_maps_every_property() -> None:
    [rec] = read_courses_ical(calendar(event(DESCRIPTION="Line one\\nline two")), "c.ics")
    assert rec.id == "COE-1"
    assert rec.title == "Spectrum, the basics"
    assert rec.location == "Nairobi, Kenya"
    assert rec.topics == ("spectrum management", "Policy and Regulation")
    assert rec.languages == ("en", "fr")
    assert rec.mode == "face_to_face"
    assert rec.coe == "Test Centre"
    assert rec.country == "Kenya"
    assert rec.region == "Africa"
    assert rec.fee_usd == 400.0
    assert rec.url == "https://academy.example.org/c/1"
    assert rec.description == "Line one\nline two"
    assert rec.status == "open"
    assert (rec.start_date, rec.registration_deadline) == (date(2027, 3, 1), date(2027, 2, 15))


def test_all_day_dtend_is_exclusive() -> None:
    [rec] = read_courses_ical(calendar(event()), "c.ics")
    assert rec.end_date == date(2027, 3, 5)


@pytest.mark.parametrize(
    ("changes", "end"),
    [
        ({"DTEND;VALUE=DATE": None}, date(2027, 3, 1)),  # no end: the day itself
        ({"DTEND;VALUE=DATE": "20270301"}, date(2027, 3, 1)),  # zero-length slip
        ({"DTEND;VALUE=DATE": None, "DURATION": "P5D"}, date(2027, 3, 5)),
        ({"DTSTART;VALUE=DATE": None, "DTEND;VALUE=DATE": None,
          "DTSTART;TZID=Europe/Paris": "20270301T090000",
          "DTEND;TZID=Europe/Paris": "20270305T170000"}, date(2027, 3, 5)),
        ({"DTSTART;VALUE=DATE": None, "DTEND;VALUE=DATE": None,
          "DTSTART": "20270301T080000Z", "DTEND": "20270306T000000Z"}, date(2027, 3, 5)),
    ],
)
def test_end_date_variants(changes: dict[str, str | None], end: date) -> None:
    [rec] = read_courses_ical(calendar(event(**changes)), "c.ics")
    assert rec.start_date == date(2027, 3, 1)
    assert rec.end_date == end


def test_several_categories_and_comma_languages() -> None:
    ev = event(X_LANGUAGES="ar,EN")
    ev.insert(-1, "CATEGORIES:cybersecurity")
    [rec] = read_courses_ical(calendar(ev), "c.ics")
    assert rec.topics == ("spectrum management", "Policy and Regulation", "cybersecurity")
    assert rec.languages == ("ar", "en")


def test_basic_date_deadline_and_value_date_deadline() -> None:
    recs = read_courses_ical(calendar(
        event(UID="A", X_REGISTRATION_DEADLINE="20270210"),
        event(UID="B", **{"X-REGISTRATION-DEADLINE": None,
                          "X-REGISTRATION-DEADLINE;VALUE=DATE": "20270211"})), "c.ics")
    assert [r.registration_deadline for r in recs] == [date(2027, 2, 10), date(2027, 2, 11)]


def test_cancelled_status_and_cancel_method() -> None:
    [a, b] = read_courses_ical(calendar(event(UID="A", STATUS="CANCELLED"),
                                        event(UID="B", STATUS="CONFIRMED")), "c.ics")
    assert (a.status, b.status) == ("cancelled", "open")
    [c] = read_courses_ical(calendar(event(), method="CANCEL"), "c.ics")
    assert c.status == "cancelled"


def test_folded_lines_are_unfolded() -> None:
    data = calendar(event(SUMMARY="A very long title that an exporter folded\r\n  over two lines"))
    [rec] = read_courses_ical(data, "c.ics")
    assert rec.title == "A very long title that an exporter folded over two lines"


def test_errors_name_line_uid_and_property() -> None:
    data = calendar(event(UID="A"),
                    event(UID="B", X_REGION="Mars", X_MODE=None, URL="mailto:x@example.org"),
                    event(UID="C", X_REGISTRATION_DEADLINE="2027-03-02"))
    # The calendar header is 3 lines, event A 16 and event B 15.
    assert errors(data) == [
        "courses.ics:20: event B: X-REGION: 'Mars' is not a region (one of Africa, Americas, "
        "Arab States, Asia-Pacific, CIS, Europe)",
        "courses.ics:20: event B: X-MODE: is missing",
        "courses.ics:20: event B: URL: 'mailto:x@example.org' is not an http(s) URL",
        "courses.ics:35: event C: X-REGISTRATION-DEADLINE: 2027-03-02 is after start_date "
        "2027-03-01",
    ]


def test_event_without_uid_is_named_by_position() -> None:
    assert errors(calendar(event(UID=None))) == ["courses.ics:4: event 1: UID: is missing"]


def test_duplicate_uid() -> None:
    assert errors(calendar(event(), event())) == [
        "courses.ics:20: event COE-1: UID: duplicate id 'COE-1' (first at line 4)"]


def test_recurring_event_refused() -> None:
    assert errors(calendar(event(RRULE="FREQ=WEEKLY;COUNT=3"))) == [
        "courses.ics:4: event COE-1: RRULE: recurring events are not supported: give each "
        "session its own event and UID"]


def test_bad_date_value() -> None:
    msgs = errors(calendar(event(**{"DTSTART;VALUE=DATE": None, "DTSTART": "2027-03-01x"})))
    assert msgs == ["courses.ics:4: event COE-1: DTSTART: '2027-03-01x' is not a date "
                    "(YYYY-MM-DD)"]


def test_property_given_twice() -> None:
    ev = event()
    ev.insert(-1, "X-REGION:Europe")
    assert errors(calendar(ev)) == ["courses.ics:4: event COE-1: X-REGION: appears 2 times"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "courses.ics: empty file (expected an iCalendar VCALENDAR)"),
        (b"id,title\n1,x\n", "courses.ics: not a valid iCalendar file: "),
    ],
)
def test_not_a_calendar(data: bytes, expected: str) -> None:
    assert errors(data)[0].startswith(expected)


def test_calendar_without_events_is_empty() -> None:
    assert read_courses_ical(calendar(), "c.ics") == []
