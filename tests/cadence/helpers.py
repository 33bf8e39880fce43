"""Shared set-up of the cadence tests: one broad-profile person, courses arriving over time."""

from __future__ import annotations

import email
import email.policy
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from scheduler.models import Delivery
from tests.conftest import Project
from tests.smtp_project import ANNOUNCE

CAMPAIGNS = ANNOUNCE + """  reminder:
    kind: course_email
    channel: email
    template: email/reminder
    timing: before registration_deadline 10d
"""
HEADER = ("id,title,coe,country,region,topics,languages,mode,location,start_date,end_date,"
          "registration_deadline,fee_usd,url\n")
BROAD = ("email,name,language,country,timezone,topics,regions,languages,modes,frequency,"
         "consent\n"
         "broad@example.org,Broad,en,Kenya,Africa/Nairobi,,,,,immediate,2026-01-01\n")


def course_line(cid: str, deadline: str = "2027-05-01", topics: str = "cybersecurity") -> str:
    return (f"{cid},Course {cid},AFRALTI,Kenya,Africa,{topics},en,online_instructor,Online,"
            f"2027-06-01,2027-06-05,{deadline},0,https://example.org/{cid}\n")


def setup(project: Project, tmp: Path, people: str = BROAD) -> None:
    project.write_config("campaigns.yaml", CAMPAIGNS)
    (tmp / "p.csv").write_text(people)
    r = project.run("participants", "import", "p.csv", now="2027-01-01T08:00:00Z")
    assert r.code == 0, r.err


def add_courses(project: Project, tmp: Path, lines: list[str], now: str) -> None:
    """Import the catalogue so far plus `lines` (a source lists every open course)."""
    known = tmp / "catalogue.lines"
    text = (known.read_text() if known.exists() else "") + "".join(lines)
    known.write_text(text)
    path = tmp / "courses.csv"
    path.write_text(HEADER + text)
    r = project.run("courses", "import", str(path), now=now)
    assert r.code == 0, r.err


def emails(project: Project) -> list[email.message.EmailMessage]:
    out = []
    for f in sorted(project.outbox("email"), key=lambda p: p.stat().st_mtime_ns):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


def text(msg: email.message.EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def rows(project: Project) -> list[tuple[str, str, str, int | None]]:
    """(dedup key, campaign, state, bundle) of every course email."""
    engine = project.engine()
    with engine.connect() as c:
        found = c.execute(select(Delivery.dedup_key, Delivery.campaign, Delivery.state,
                                 Delivery.bundle)
                          .where(Delivery.kind == "course_email")).all()
    engine.dispose()
    return [tuple(r) for r in found]  # type: ignore[misc]


def messages_by_bundle(project: Project) -> dict[int, list[str]]:
    """Sent course email rows by their message id (the lead's id)."""
    engine = project.engine()
    with engine.connect() as c:
        found = c.execute(select(func.coalesce(Delivery.bundle, Delivery.id), Delivery.course_id)
                          .where(Delivery.kind == "course_email", Delivery.state == "sent")
                          ).all()
    engine.dispose()
    out: dict[int, list[str]] = defaultdict(list)
    for message, course in found:
        out[message].append(course)
    return dict(out)
