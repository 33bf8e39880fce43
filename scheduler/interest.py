"""Expressions of interest (activity 16): what a contact answers through `/i/{token}`.

One record per (contact, course), updated in place, naming the campaign and delivery it came
from; a withdrawn answer stays as a row (status `withdrawn`) but leaves the list and the
report. Nothing is recorded on GET: mail scanners follow links.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.admin_links import InterestLink, read_interest_token
from scheduler.errors import InputError
from scheduler.links import BadToken
from scheduler.models import Contact, Course, Interest

MAX_PARTICIPANTS = 100_000
MAX_COMMENT = 2_000
ACTIVE = "active"
WITHDRAWN = "withdrawn"
CSV_COLUMNS = ("course", "title", "centre", "start_date", "organisation", "country", "name",
               "email", "participants", "comment", "updated_at")


@dataclass(frozen=True)
class InterestTarget:
    """A verified `/i/` link: the contact, the course and where the link came from."""

    link: InterestLink
    contact: Contact
    course: Course


def open_interest(session: Session, token: str, keys: bytes | Sequence[bytes]) -> InterestTarget:
    """The contact and course of a genuine `/i/` token, else `BadToken` (tampered, forged,
    wrong purpose, or naming a contact or course that no longer exists)."""
    link = read_interest_token(token, keys)
    contact = session.get(Contact, link.contact_id)
    if contact is None or contact.email != link.email:
        raise BadToken("unknown recipient")
    course = session.get(Course, link.course_id)
    if course is None:
        raise BadToken("unknown course")
    return InterestTarget(link, contact, course)


def parse_participants(value: object) -> int:
    """A whole number of participants, 1 to MAX_PARTICIPANTS; `InputError` otherwise."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PARTICIPANTS:
        raise InputError([f"participants: a whole number from 1 to {MAX_PARTICIPANTS:,}"])
    return int(text)


def clean_comment(value: object) -> str:
    text = str(value if value is not None else "").strip()
    if len(text) > MAX_COMMENT:
        raise InputError([f"comment: longer than {MAX_COMMENT} characters"])
    return text


def current(session: Session, contact_id: int, course_id: str) -> Interest | None:
    return session.scalar(select(Interest).where(Interest.contact_id == contact_id,
                                                 Interest.course_id == course_id))


def record_interest(session: Session, target: InterestTarget, participants: object,
                    comment: object, now: datetime) -> Interest:
    """Record or replace the contact's answer for the course (in the caller's transaction);
    `InputError` for a bad `participants` or `comment`, before any write."""
    n = parse_participants(participants)
    text = clean_comment(comment)
    row = current(session, target.contact.id, target.course.id)
    if row is None:
        row = Interest(contact_id=target.contact.id, course_id=target.course.id,
                       created_at=now)
        session.add(row)
    row.participants = n
    row.comment = text
    row.status = ACTIVE
    row.campaign = target.link.campaign
    row.delivery_id = target.link.delivery_id
    row.updated_at = now
    session.flush()
    _log_event(session, target, row, now, withdrawn=False)
    return row


def withdraw_interest(session: Session, target: InterestTarget, now: datetime) -> bool:
    """Withdraw the contact's answer for the course; False when there was none standing."""
    row = current(session, target.contact.id, target.course.id)
    if row is None or row.status == WITHDRAWN:
        return False
    row.status = WITHDRAWN
    row.updated_at = now
    session.flush()
    _log_event(session, target, row, now, withdrawn=True)
    return True


def _log_event(session: Session, target: InterestTarget, row: Interest, now: datetime, *,
               withdrawn: bool) -> None:
    """An `interest` event for the performance report, through the event log's writer. A
    new answer replaces the earlier one's count there; a withdrawn one takes it back."""
    course = target.course
    tags: dict[str, Any] = {"course": course.id, "centre": course.coe, "region": course.region,
            "language": target.contact.language, "person": f"k{target.contact.id}",
            "amount": 0 if withdrawn else row.participants}
    if withdrawn:
        tags["category"] = "withdrawn"
    events.record(session, "interest", delivery_id=row.delivery_id, at=now,
                  detail=f"participants={row.participants}", **tags)


def list_interests(session: Session, *, course: str | None = None, centre: str | None = None
                   ) -> list[dict[str, Any]]:
    """Every standing answer (one per contact and course), by course then organisation."""
    q = (select(Interest, Contact, Course)
         .join(Contact, Contact.id == Interest.contact_id)
         .join(Course, Course.id == Interest.course_id)
         .where(Interest.status == ACTIVE))
    if course:
        q = q.where(Interest.course_id == course)
    if centre:
        q = q.where(Course.coe == centre)
    rows = []
    for i, k, c in session.execute(q.order_by(Course.start_date, Course.id,
                                              Contact.organisation, Contact.email)):
        rows.append({
            "course": c.id, "title": c.title, "centre": c.coe,
            "start_date": c.start_date.isoformat(), "organisation": k.organisation,
            "country": k.country, "name": k.name, "email": k.email,
            "participants": i.participants, "comment": i.comment, "campaign": i.campaign,
            "delivery_id": i.delivery_id, "updated_at": i.updated_at.isoformat(),
        })
    return rows


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The rows as a UTF-8 CSV file (a centre's demand for its courses)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
