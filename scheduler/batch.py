"""What a claimed batch of deliveries needs to be built, read in a few queries.

A dispatcher claims a hundred to five hundred deliveries at a time. Reading each one's
delivery, participant, suppression and course row by row cost more than rendering and
sending the email; here one query reads the claimed rows, their bundles' other rows, their
participants and suppressions, and one more the courses (a third, the interests, only for
bundles). The rows are read in one short transaction and then used detached: what may
change in the meantime (an unsubscribe, a bounce, a cancelled course) is checked again in
the statement that marks each delivery `sending` (`SendPath.begin_send`).

The rows are plain records (`DeliveryRow`, `ParticipantRow`, `CourseRow`; slotted, not
frozen: a frozen dataclass took 4 µs to build), not ORM entities: building an entity
(identity map, instance state) cost more than the query itself. Each has the ORM class's
attribute names for the columns a message is built from, so the builders take either
(`AnyDelivery`, `AnyParticipant`, `AnyCourse`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, or_, select
from sqlalchemy.orm import Session

from scheduler.id_lists import in_list, list_param
from scheduler.models import Course, Delivery, Participant, ParticipantInterest, Suppression


@dataclass(slots=True)
class DeliveryRow:
    """The columns of a `Delivery` its message is built and its send checked from."""

    id: int
    dedup_key: str
    campaign: str
    kind: str
    channel: str
    template: str
    course_id: str | None
    participant_id: int | None
    post_id: int | None
    contact_id: int | None
    centre_id: int | None
    period_start: datetime | None
    period_end: datetime | None
    state: str
    attempts: int
    lease_owner: str | None
    bundle: int | None


@dataclass(slots=True)
class ParticipantRow:
    """The columns of a `Participant` an email to them is built from."""

    id: int
    email: str
    name: str
    language: str
    timezone: str
    status: str
    paused_until: date | None


@dataclass(slots=True)
class CourseRow:
    """The columns of a `Course` a message shows or checks (`course_context`)."""

    id: str
    title: str
    coe: str
    country: str
    region: str
    topics: list[str]
    languages: list[str]
    mode: str
    location: str
    start_date: date
    end_date: date
    registration_deadline: date
    fee_usd: float | None
    url: str
    status: str
    description: str
    content_hash: str


AnyDelivery = Delivery | DeliveryRow
"""A delivery as the ORM loads it or as a batch reads it: the same attribute names."""
AnyParticipant = Participant | ParticipantRow
AnyCourse = Course | CourseRow


@dataclass
class Batch:
    """Deliveries (in claim order) and the rows their messages are built from."""

    deliveries: list[DeliveryRow] = field(default_factory=list)
    participants: dict[int, ParticipantRow] = field(default_factory=dict)
    courses: dict[str, CourseRow] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    """Addresses of the batch's participants that are on the suppression list."""
    members: dict[int, list[DeliveryRow]] = field(default_factory=dict)
    """A cadence bundle's lead id → the bundle's other rows reserved with it."""
    interests: dict[int, set[str]] = field(default_factory=dict)
    """Topic interests of the participants who get a bundle (its order)."""

    def bundled(self, d: AnyDelivery) -> bool:
        """Whether `d` leads a bundle of more than itself."""
        return bool(self.members.get(d.id))


def _columns(record: type[Any], table: Any) -> list[Any]:
    """`table`'s columns named by `record`'s fields, in their order."""
    t = cast(Table, table.__table__)
    return [t.c[f.name] for f in fields(record)]


_DELIVERY = _columns(DeliveryRow, Delivery)
_PARTICIPANT = _columns(ParticipantRow, Participant)
_D = cast(Table, Delivery.__table__).c
_P = cast(Table, Participant.__table__).c
_S = cast(Table, Suppression.__table__).c
_C = cast(Table, Course.__table__).c
_I = cast(Table, ParticipantInterest.__table__).c
_NO_PERSON = (None,) * len(_PARTICIPANT)


@lru_cache(maxsize=2)
def _rows_statement(postgres: bool) -> Select[Any]:
    """The claimed rows `p_ids` and their bundles' other rows (a course email's lead has
    `bundle = id`), each with its participant and whether the address is suppressed."""
    return (select(*_DELIVERY, *_PARTICIPANT, _S.email.is_not(None))
            .outerjoin(Participant, _P.id == _D.participant_id)
            .outerjoin(Suppression, _S.email == _P.email)
            .where(or_(in_list(_D.id, "p_ids", postgres),
                       in_list(_D.bundle, "p_ids", postgres))))


@lru_cache(maxsize=2)
def _courses_statement(postgres: bool) -> Select[Any]:
    return select(*_columns(CourseRow, Course)).where(in_list(_C.id, "p_ids", postgres))


@lru_cache(maxsize=2)
def _interests_statement(postgres: bool) -> Select[Any]:
    return select(_I.participant_id, _I.value).where(
        in_list(_I.participant_id, "p_ids", postgres), _I.kind == "topic")


def load_batch(session: Session, ids: Sequence[int]) -> Batch:
    """The deliveries `ids` (claimed: in claim order) with their bundles' other rows,
    participants, suppressions and courses."""
    c = session.connection()
    postgres = c.dialect.name == "postgresql"
    claimed = set(ids)
    width = len(_DELIVERY)
    found: dict[int, DeliveryRow] = {}
    others: list[DeliveryRow] = []
    batch = Batch()
    for row in c.execute(_rows_statement(postgres), {"p_ids": list_param(ids, postgres)}):
        d = DeliveryRow(*row[:width])
        if d.id in claimed:
            found[d.id] = d
        else:
            others.append(d)
        person = row[width:-1]
        if person != _NO_PERSON and person[0] not in batch.participants:
            p = ParticipantRow(*person)
            batch.participants[p.id] = p
            if row[-1]:
                batch.suppressed.add(p.email)
    batch.deliveries = [found[i] for i in ids if i in found]
    _add_members(c, postgres, batch, others)
    cids = {d.course_id for d in batch.deliveries if d.course_id is not None}
    cids.update(m.course_id for rows in batch.members.values() for m in rows if m.course_id)
    if cids:
        batch.courses = {course.id: course for course in (
            CourseRow(*row) for row in c.execute(_courses_statement(postgres),
                                                    {"p_ids": list_param(cids, postgres)}))}
    return batch


def _add_members(c: Connection, postgres: bool, batch: Batch, others: list[DeliveryRow]
                 ) -> None:
    """A bundle's other rows reserved with its lead (same owner, still claimable), in id
    order; and the topic interests of the people who get a bundle (its order)."""
    leads = {d.id: d for d in batch.deliveries if d.bundle == d.id}
    for m in sorted(others, key=lambda m: m.id):
        lead = leads.get(m.bundle or 0)
        if (lead is not None and m.lease_owner is not None and m.lease_owner == lead.lease_owner
                and m.state in ("pending", "retrying")):
            batch.members.setdefault(lead.id, []).append(m)
    people = [pid for lead in batch.members
              if (pid := leads[lead].participant_id) is not None]
    if people:
        for pid, value in c.execute(_interests_statement(postgres),
                                    {"p_ids": list_param(people, postgres)}):
            batch.interests.setdefault(pid, set()).add(value)
