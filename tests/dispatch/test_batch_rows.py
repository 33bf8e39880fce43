"""`load_batch` reads plain rows: the same batch as the ORM entities it replaced gave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from scheduler.batch import Batch, CourseRow, DeliveryRow, ParticipantRow, load_batch
from scheduler.db import session_factory
from scheduler.filter import Filter
from scheduler.models import Course, Delivery, Participant, ParticipantInterest, Suppression
from scheduler.outbox import Leases

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
DUE = NOW - timedelta(hours=1)
OTHER = "elsewhere:1:abcd"


def course(cid: str, status: str = "open") -> dict[str, Any]:
    return {"id": cid, "title": f"Course {cid}", "coe": "Centre", "country": "Kenya",
            "region": "Africa", "topics": ["ai", "5g"], "languages": ["en", "fr"],
            "mode": "online", "location": "", "start_date": date(2027, 3, 1),
            "end_date": date(2027, 3, 5), "registration_deadline": date(2027, 2, 20),
            "fee_usd": 120.5, "url": f"https://example.org/{cid}", "status": status,
            "description": "About it", "content_hash": f"h{cid}", "first_seen_at": NOW,
            "updated_at": NOW}


def person(pid: int, **values: Any) -> dict[str, Any]:
    return {"id": pid, "email": f"p{pid}@example.org", "name": f"Person {pid}",
            "language": "fr", "timezone": "Africa/Nairobi", "status": "active",
            "paused_until": None, "created_at": NOW, "updated_at": NOW, **values}


def delivery(i: int, **values: Any) -> dict[str, Any]:
    return {"id": i, "dedup_key": f"k{i}", "campaign": "announce", "kind": "course_email",
            "channel": "email", "template": "email/announce", "course_id": None,
            "participant_id": None, "post_id": None, "contact_id": None, "centre_id": None,
            "period_start": None, "period_end": None, "state": "pending", "due_at": DUE,
            "attempts": 0, "lease_owner": None, "lease_expires_at": None, "bundle": i,
            "created_at": NOW, "updated_at": NOW, **values}


def fill(engine: Engine) -> None:
    """Bundles (with members to take and to leave), a suppressed and an unsubscribed
    person, a digest, a catalogue email and a post."""
    with engine.begin() as c:
        c.execute(insert(Course), [course("C1"), course("C2"), course("C3", "cancelled")])
        c.execute(insert(Participant), [
            person(1), person(2), person(3, status="unsubscribed"),
            person(4, paused_until=date(2027, 1, 20), timezone="America/Lima")])
        c.execute(insert(Suppression), [{"email": "p2@example.org", "reason": "complaint",
                                         "detail": "", "created_at": NOW}])
        c.execute(insert(ParticipantInterest), [
            {"participant_id": 1, "kind": "topic", "value": "ai"},
            {"participant_id": 1, "kind": "topic", "value": "5g"},
            {"participant_id": 1, "kind": "region", "value": "africa"}])
        c.execute(insert(Delivery), [
            delivery(10, participant_id=1, course_id="C1", attempts=1, state="retrying"),
            delivery(11, participant_id=1, course_id="C2", bundle=10),
            delivery(12, participant_id=1, course_id="C3", bundle=10, campaign="remind"),
            delivery(13, participant_id=1, course_id="C2", bundle=10, state="sent"),
            delivery(14, participant_id=1, course_id="C1", bundle=10, lease_owner=OTHER,
                     lease_expires_at=NOW + timedelta(minutes=2)),
            delivery(20, participant_id=2, course_id="C1"),
            delivery(30, participant_id=3, course_id="C2"),
            delivery(31, participant_id=4, course_id="C2"),
            delivery(40, participant_id=4, kind="digest", bundle=None,
                     period_start=NOW - timedelta(days=7), period_end=NOW),
            delivery(50, kind="catalogue_email", contact_id=7, bundle=None,
                     period_start=NOW, period_end=NOW + timedelta(days=90)),
            delivery(51, kind="coe_email", centre_id=3, bundle=None),
            delivery(60, kind="course_post", channel="social", course_id="C1", bundle=None,
                     template="post/announce"),
        ])


def orm_batch(session: Session, ids: Sequence[int]) -> Batch:
    """The batch as `load_batch` read it with ORM entities (before plain rows)."""
    order = {i: n for n, i in enumerate(ids)}
    deliveries = sorted(session.scalars(select(Delivery).where(Delivery.id.in_(ids))),
                        key=lambda d: order[d.id])
    batch = Batch(deliveries=deliveries)  # type: ignore[arg-type]
    pids = {d.participant_id for d in deliveries if d.participant_id is not None}
    batch.participants = {p.id: p for p in session.scalars(  # type: ignore[misc]
        select(Participant).where(Participant.id.in_(pids)))}
    emails = {p.email for p in batch.participants.values()}
    batch.suppressed = set(session.scalars(
        select(Suppression.email).where(Suppression.email.in_(emails))))
    leads = [d.id for d in deliveries if d.bundle == d.id]
    owners = {d.id: d.lease_owner for d in deliveries}
    for m in session.scalars(select(Delivery).where(Delivery.bundle.in_(leads),
                                                    Delivery.id.not_in(leads))
                             .order_by(Delivery.id)):
        if (m.lease_owner is not None and m.state in ("pending", "retrying")
                and m.lease_owner == owners.get(m.bundle or 0)):
            batch.members.setdefault(m.bundle or 0, []).append(m)  # type: ignore[arg-type]
    people = {d.participant_id for d in deliveries if d.id in batch.members}
    for pid, value in session.execute(
            select(ParticipantInterest.participant_id, ParticipantInterest.value)
            .where(ParticipantInterest.participant_id.in_(people),
                   ParticipantInterest.kind == "topic")):
        batch.interests.setdefault(pid, set()).add(value)
    cids = {d.course_id for d in deliveries if d.course_id is not None}
    cids.update(m.course_id for rows in batch.members.values() for m in rows if m.course_id)
    batch.courses = {c.id: c for c in session.scalars(  # type: ignore[misc]
        select(Course).where(Course.id.in_(cids)))}
    return batch


def values(record: type[Any], row: object) -> dict[str, Any]:
    """`row`'s values of the columns `record` holds (a plain row or an ORM entity)."""
    return {f.name: getattr(row, f.name) for f in fields(record)}


def same(got: Batch, want: Batch) -> None:
    assert [values(DeliveryRow, d) for d in got.deliveries] == [
        values(DeliveryRow, d) for d in want.deliveries]
    assert {i: values(ParticipantRow, p) for i, p in got.participants.items()} == {
        i: values(ParticipantRow, p) for i, p in want.participants.items()}
    assert {i: values(CourseRow, c) for i, c in got.courses.items()} == {
        i: values(CourseRow, c) for i, c in want.courses.items()}
    assert {lead: [values(DeliveryRow, m) for m in rows]
            for lead, rows in got.members.items()} == {
        lead: [values(DeliveryRow, m) for m in rows] for lead, rows in want.members.items()}
    assert got.suppressed == want.suppressed
    assert got.interests == want.interests


def test_the_batch_holds_what_the_orm_read(engine: Engine) -> None:
    fill(engine)
    sessions = session_factory(engine)
    leases = Leases(sessions, lambda: NOW)
    emails = leases.claim("email", Filter(), 100)
    posts = leases.claim("social", Filter(), 100)
    assert sorted(emails) == [10, 20, 30, 31, 40, 50, 51] and posts == [60]
    for ids in (emails, posts, [*reversed(emails), *posts]):
        with sessions() as s:
            got = load_batch(s, ids)
        with sessions() as s:
            want = orm_batch(s, ids)
        same(got, want)
    with sessions() as s:
        got = load_batch(s, emails)
    assert [m.id for m in got.members[10]] == [11, 12]  # not sent 13, not the other's 14
    assert got.bundled(got.deliveries[emails.index(10)])
    assert got.suppressed == {"p2@example.org"}
    assert got.interests == {1: {"ai", "5g"}}
    assert set(got.courses) == {"C1", "C2", "C3"}
    assert got.participants[4].paused_until == date(2027, 1, 20)
    digest = got.deliveries[emails.index(40)]
    assert digest.period_start == NOW - timedelta(days=7) and digest.period_end == NOW
