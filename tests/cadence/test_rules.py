"""The pure cadence decision (scheduler.cadence.rules) and settings.yaml `cadence`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from scheduler.cadence import Due, History, decide, relevance_key
from scheduler.cadence.rules import next_allowed
from scheduler.config import Cadence

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
NAIROBI = ZoneInfo("Africa/Nairobi")
DEFAULT = Cadence()


def due(i: int, course: str, reminder: bool = False, deadline: date = date(2027, 5, 1)) -> Due:
    return Due(i, course, reminder, deadline)


def test_defaults_and_parsing() -> None:
    assert (DEFAULT.max_per_day, DEFAULT.max_per_week, DEFAULT.reminder_after) == (
        1, 4, timedelta(days=3))
    c = Cadence.model_validate({"max_per_day": 2, "max_per_week": 5, "reminder_after": "36h"})
    assert c.reminder_after == timedelta(hours=36)
    with pytest.raises(ValidationError):
        Cadence.model_validate({"max_per_day": 0})
    with pytest.raises(ValidationError):
        Cadence.model_validate({"max_per_dya": 1})


def test_everything_due_goes_as_one_bundle() -> None:
    d = decide([due(3, "A"), due(1, "B"), due(2, "A", reminder=True)], History(), NOW,
               NAIROBI, ZoneInfo("UTC"), DEFAULT)
    assert d.send == [1, 2, 3] and d.hold == [] and d.cancel == []


def test_the_day_cap_holds_until_the_persons_next_day() -> None:
    history = History(sent=[NOW - timedelta(hours=2)])
    d = decide([due(1, "A")], history, NOW, NAIROBI, ZoneInfo("UTC"), DEFAULT)
    assert d.send == []
    assert d.hold == [(1, datetime(2027, 1, 12, tzinfo=NAIROBI), "max_per_day")]
    # Yesterday in Nairobi (an email at 20:30 UTC the day before is 23:30 there): no hold.
    history = History(sent=[datetime(2027, 1, 10, 20, 30, tzinfo=UTC)])
    assert decide([due(1, "A")], history, NOW, NAIROBI, ZoneInfo("UTC"), DEFAULT).send == [1]


def test_the_week_cap_waits_for_the_oldest_email_of_the_week() -> None:
    sent = [NOW - timedelta(days=n, hours=1) for n in (1, 2, 3, 6)]
    until, why = next_allowed(NOW, sent, NAIROBI, DEFAULT)
    assert (until, why) == (NOW - timedelta(days=6, hours=1) + timedelta(days=7),
                            "max_per_week")


def test_what_a_cap_would_hold_past_the_deadline_is_cancelled() -> None:
    history = History(sent=[NOW - timedelta(hours=1)])
    # Held to the person's next day, which (in the operator's zone, Nairobi here) is past
    # A's last day of registration.
    d = decide([due(1, "A", deadline=date(2027, 1, 11)), due(2, "B")], history, NOW,
               NAIROBI, NAIROBI, DEFAULT)
    assert d.cancel == [(1, "registration closed")]
    assert [h[0] for h in d.hold] == [2]


def test_a_reminder_waits_reminder_after_its_announcement() -> None:
    announced = NOW - timedelta(days=1)
    history = History(sent=[announced], announced={"A": announced})
    later = NOW + timedelta(days=1)  # the day cap is free again
    d = decide([due(5, "A", reminder=True)], history, later, NAIROBI, ZoneInfo("UTC"),
               DEFAULT)
    assert d.hold == [(5, announced + timedelta(days=3), "reminder_after")]
    d = decide([due(5, "A", reminder=True)], history, announced + timedelta(days=3),
               NAIROBI, ZoneInfo("UTC"), DEFAULT)
    assert d.send == [5]


def test_no_reminder_after_a_click() -> None:
    history = History(clicked={"A"})
    d = decide([due(5, "A", reminder=True), due(6, "B", reminder=True)], history, NOW,
               NAIROBI, ZoneInfo("UTC"), DEFAULT)
    assert d.cancel == [(5, "already clicked the course's link")] and d.send == [6]


def test_relevance_orders_by_topic_overlap_then_deadline() -> None:
    interests = {"cybersecurity", "5g"}
    keys = sorted([
        relevance_key(["Cybersecurity"], interests, date(2027, 3, 1), "one-topic-late"),
        relevance_key(["cybersecurity", "5G"], interests, date(2027, 4, 1), "two-topics"),
        relevance_key(["cybersecurity"], interests, date(2027, 2, 1), "one-topic-soon"),
        relevance_key(["spectrum"], interests, date(2027, 1, 20), "none"),
    ])
    assert [k[2] for k in keys] == ["two-topics", "one-topic-soon", "one-topic-late", "none"]
