"""Property (issue 16): over random arrival times of courses for a few people, nobody gets
more course emails per local day than the cap (nor per seven days), and every course
reaches every person it was due for exactly once. The real dispatcher, file channel and
database; the clock moves in steps."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scheduler import outbox
from scheduler.app import App
from scheduler.dispatch import Dispatcher
from scheduler.models import Course, Delivery, Participant
from tests.cadence.helpers import CAMPAIGNS
from tests.conftest import Project

START = datetime(2027, 1, 11, tzinfo=UTC)
ZONES = ["Africa/Nairobi", "America/Lima", "Asia/Tokyo", "UTC"]
STEP = timedelta(hours=7)


class Tick:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(app: App, people: list[str], arrivals: list[tuple[int, int]]) -> None:
    """People (one per zone given) and one announcement row per (person, course)."""
    with app.sessions() as s, s.begin():
        for n, zone in enumerate(people, start=1):
            s.add(Participant(id=n, email=f"p{n}@example.org", name=f"P{n}", timezone=zone,
                              status="active", created_at=START, updated_at=START))
        for c, (_, _) in enumerate(arrivals):
            s.add(Course(id=f"C{c}", title=f"Course {c}", coe="AFRALTI", region="Africa",
                         mode="online_instructor", start_date=date(2027, 6, 1),
                         end_date=date(2027, 6, 5), registration_deadline=date(2027, 5, 1),
                         url=f"https://example.org/{c}", content_hash="x",
                         first_seen_at=START, updated_at=START))
        s.flush()
        for c, (hours, who) in enumerate(arrivals):
            person = who % len(people) + 1
            for p in {person, 1}:  # person 1 gets every course (a broad profile)
                outbox.enqueue(s, now=START, dedup_key=f"announce:C{c}:p{p}",
                               campaign="announce", kind="course_email", channel="email",
                               template="email/announcement", course_id=f"C{c}",
                               participant_id=p, due_at=START + timedelta(hours=hours))


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3),
       arrivals=st.lists(st.tuples(st.integers(0, 24 * 9), st.integers(0, 2)),
                         min_size=1, max_size=12))
def test_caps_hold_and_every_course_arrives_once(
        project: Project, tmp_path: Path, people: list[str],
        arrivals: list[tuple[int, int]]) -> None:
    project.write_config("campaigns.yaml", CAMPAIGNS)
    db = tmp_path / f"prop-{len(list(tmp_path.glob('prop-*.db')))}.db"
    app = App(project.config, f"sqlite:///{db}", now=START)
    try:
        seed(app, people, arrivals)
        clock = Tick(START)
        dispatcher = Dispatcher(app.sessions, app.config, app.channels(), app.builder(),
                                clock=clock)
        while clock.now < START + timedelta(days=40):
            dispatcher.run_once()
            clock.now += STEP
        with app.sessions() as s:
            rows = s.execute(select(Delivery.participant_id, Delivery.course_id,
                                    Delivery.state, Delivery.bundle, Delivery.sent_at)).all()
    finally:
        app.close()
    assert {r.state for r in rows} == {"sent"}
    messages: dict[int, tuple[int, datetime, list[str]]] = {}
    for pid, cid, _, bundle, sent_at in rows:
        assert bundle is not None and sent_at is not None
        messages.setdefault(bundle, (pid, sent_at, []))[2].append(cid)
    per_day: dict[tuple[int, date], int] = defaultdict(int)
    times: dict[int, list[datetime]] = defaultdict(list)
    seen: dict[int, list[str]] = defaultdict(list)
    for pid, sent_at, courses in messages.values():
        zone = ZoneInfo(people[pid - 1])
        per_day[(pid, sent_at.astimezone(zone).date())] += 1
        times[pid].append(sent_at)
        seen[pid].extend(courses)
    assert max(per_day.values()) <= 1  # cadence.max_per_day (default 1)
    for sent in times.values():
        sent.sort()
        assert all(later - sent[i] >= timedelta(days=7)
                   for i, later in enumerate(sent[4:]))  # max_per_week 4
    due = {(p, cid) for p, cid, *_ in rows}
    for courses in seen.values():
        assert len(courses) == len(set(courses))  # no course twice to one person
    assert {(p, c) for p, cs in seen.items() for c in cs} == due
