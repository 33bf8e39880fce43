"""Cadence end to end through `herald send-now` (issue 16): bundles, caps, spacing."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from scheduler.models import Delivery, DeliveryEvent
from tests.cadence.helpers import (
    add_courses,
    course_line,
    emails,
    messages_by_bundle,
    rows,
    setup,
    text,
)
from tests.conftest import Project


def test_forty_new_courses_make_one_email_and_nothing_is_lost_or_repeated(
        project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path)
    ids = [f"N{n:02d}" for n in range(40)]
    add_courses(project, tmp_path, [course_line(i) for i in ids], now="2027-01-11T07:00:00Z")
    assert project.run("send-now", now="2027-01-11T09:00:00Z").code == 0
    sent = emails(project)
    assert len(sent) == 1
    body = text(sent[0])
    listed = re.findall(r"^\d+\. Course (N\d\d)\s*$", body, flags=re.M)
    assert sorted(listed) == ids  # all 40 listed, each once
    assert "40 new courses" in str(sent[0]["Subject"])
    assert [len(c) for c in messages_by_bundle(project).values()] == [40]

    # Again the same day: nothing.
    assert project.run("send-now", now="2027-01-11T18:00:00Z").code == 0
    assert len(emails(project)) == 1
    # The following days up to the deadline: the reminders (due 10 days before it) in
    # one email, each course once; nothing lost.
    day = date(2027, 1, 12)
    while day <= date(2027, 5, 2):
        assert project.run("send-now", now=f"{day.isoformat()}T09:00:00Z").code == 0
        day += timedelta(days=3 if day < date(2027, 4, 15) else 1)
    sent = emails(project)
    assert len(sent) == 2
    assert "Registration closes soon" in str(sent[1]["Subject"])
    states = {(k, s) for k, _, s, _ in rows(project)}
    assert {s for _, s in states} == {"sent"} and len(states) == 80
    per_campaign = [sorted(c) for c in messages_by_bundle(project).values()]
    assert per_campaign == [sorted(ids), sorted(ids)]


def test_an_announcement_and_its_reminder_due_together_are_one_entry(
        project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path)
    # Registration closes in five days: the reminder (10 days before) is already due.
    add_courses(project, tmp_path, [course_line("LATE", deadline="2027-01-16")],
                now="2027-01-11T07:00:00Z")
    assert project.run("send-now", now="2027-01-11T09:00:00Z").code == 0
    sent = emails(project)
    assert len(sent) == 1
    assert text(sent[0]).count("Course LATE") == 1
    assert sorted((c, s) for _, c, s, _ in rows(project)) == [("announce", "sent"),
                                                             ("reminder", "sent")]
    assert len({b for *_, b in rows(project)}) == 1  # one message id


def test_a_cap_holds_back_and_releases_in_order(project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path)
    add_courses(project, tmp_path, [course_line("A")], now="2027-01-11T06:00:00Z")
    assert project.run("send-now", now="2027-01-11T07:00:00Z").code == 0
    add_courses(project, tmp_path, [course_line("B"), course_line("C")],
                now="2027-01-11T10:00:00Z")
    assert project.run("send-now", now="2027-01-11T10:30:00Z").code == 0
    assert len(emails(project)) == 1  # the day's one email already went
    plan = project.run("plan", "--json", now="2027-01-11T11:00:00Z").json()
    assert isinstance(plan, dict)
    held = plan["cadence"]
    # Nairobi is UTC+3: the person's next day starts at 21:00 UTC.
    assert held == [{"participant": "broad@example.org", "participant_id": 1, "held": 2,
                     "courses": ["B", "C"], "goes_at": "2027-01-11T21:00:00+00:00",
                     "why": "max_per_day"}]
    status = project.run("status", "--json", now="2027-01-11T11:00:00Z").json()
    assert isinstance(status, dict) and status["cadence"] == {"held": 2, "people": 1}
    # Not before the person's next day ...
    assert project.run("send-now", now="2027-01-11T20:59:00Z").code == 0
    assert len(emails(project)) == 1
    # ... then B and C together, after A.
    assert project.run("send-now", now="2027-01-11T21:00:00Z").code == 0
    sent = emails(project)
    assert len(sent) == 2
    assert "Course A" in text(sent[0]) and "Course B" not in text(sent[0])
    assert "Course B" in text(sent[1]) and "Course C" in text(sent[1])
    assert [sorted(c) for c in messages_by_bundle(project).values()] == [["A"], ["B", "C"]]


def test_the_weekly_cap_and_what_it_would_hold_past_the_deadline(
        project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path)
    start = date(2027, 1, 11)
    for n in range(6):  # a new course every day: four emails in a week, then a wait
        day = start + timedelta(days=n)
        deadline = "2027-01-19" if n == 5 else "2027-05-01"
        add_courses(project, tmp_path, [course_line(f"D{n}", deadline=deadline)],
                    now=f"{day.isoformat()}T05:00:00Z")
        assert project.run("send-now", now=f"{day.isoformat()}T06:00:00Z").code == 0
    assert len(emails(project)) == 4
    by_key = {k: s for k, _, s, _ in rows(project)}
    assert by_key["announce:D4:p1"] == "pending"
    # D5's registration closes on the 19th, before the week frees a slot (the 18th's
    # morning is when the first email's week ends): its reminder and announcement wait.
    day = start + timedelta(days=6)
    while day <= date(2027, 1, 25):
        assert project.run("send-now", now=f"{day.isoformat()}T06:00:00Z").code == 0
        day += timedelta(days=1)
    by_key = {k: s for k, _, s, _ in rows(project)}
    assert by_key["announce:D4:p1"] == "sent"
    assert by_key["announce:D5:p1"] in ("sent", "cancelled")
    # No course twice (an announcement and its reminder in one email are one entry).
    sent_courses = [c for cs in messages_by_bundle(project).values() for c in set(cs)]
    assert len(sent_courses) == len(set(sent_courses))
    assert all(text(m).count("Course D5") <= 1 for m in emails(project))


TWO = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,consent\n"
       "broad@example.org,Broad,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n"
       "bots@example.org,Bots,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n")


def click(project: Project, key: str, bot: bool) -> None:
    engine = project.engine()
    with engine.begin() as c:
        did = c.execute(select(Delivery.id).where(Delivery.dedup_key == key)).scalar_one()
        c.execute(insert(DeliveryEvent).values(
            delivery_id=did, type="clicked", at=datetime(2027, 1, 12, 10, tzinfo=UTC),
            detail=json.dumps({"bot": bot, "why": "user-agent" if bot else None})))
    engine.dispose()


def test_reminders_wait_reminder_after_and_skip_people_who_clicked(
        project: Project, tmp_path: Path) -> None:
    setup(project, tmp_path, people=TWO)
    # SOON's reminder is due a day after its announcement; LATER's four days after.
    add_courses(project, tmp_path, [course_line("SOON", deadline="2027-01-22"),
                                    course_line("LATER", deadline="2027-01-25")],
                now="2027-01-11T05:00:00Z")
    assert project.run("send-now", now="2027-01-11T06:00:00Z").code == 0
    assert len(emails(project)) == 2  # one each
    click(project, "announce:LATER:p1", bot=False)  # a person clicked
    click(project, "announce:LATER:p2", bot=True)  # a link scanner did
    # SOON's reminder waits three days after the announcement (to the 14th, 06:00).
    assert project.run("send-now", now="2027-01-12T06:00:00Z").code == 0
    plan = project.run("plan", "--json", now="2027-01-12T07:00:00Z").json()
    assert isinstance(plan, dict)
    # (to the minute: the CLI's clock runs on from --now)
    assert {(h["participant"], h["goes_at"][:16], h["why"]) for h in plan["cadence"]} == {
        ("broad@example.org", "2027-01-14T06:00", "reminder_after"),
        ("bots@example.org", "2027-01-14T06:00", "reminder_after")}
    assert len(emails(project)) == 2
    day = date(2027, 1, 13)
    while day <= date(2027, 1, 26):
        assert project.run("send-now", now=f"{day.isoformat()}T06:00:00Z").code == 0
        day += timedelta(days=1)
    states = {k: s for k, _, s, _ in rows(project)}
    assert states["reminder:SOON:p1"] == states["reminder:SOON:p2"] == "sent"
    assert states["reminder:LATER:p1"] == "cancelled"  # clicked: no reminder
    assert states["reminder:LATER:p2"] == "sent"  # a bot's click does not count
