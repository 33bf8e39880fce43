"""What a claimed batch of deliveries needs to be built, read in a few queries.

A dispatcher claims up to a hundred deliveries at a time. Reading each one's delivery,
participant, suppression and course row by row cost more than rendering and sending the
email; one query per table for the whole batch costs a fraction of a millisecond per email.
The rows are read in one short transaction and then used detached: what may change in the
meantime (an unsubscribe, a bounce, a cancelled course) is checked again in the statement
that marks each delivery `sending` (see `Dispatcher._begin_send`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Course, Delivery, Participant, ParticipantInterest, Suppression


@dataclass
class Batch:
    """Deliveries (in claim order) and the rows their messages are built from."""

    deliveries: list[Delivery] = field(default_factory=list)
    participants: dict[int, Participant] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)
    suppressed: set[str] = field(default_factory=set)
    """Addresses of the batch's participants that are on the suppression list."""
    members: dict[int, list[Delivery]] = field(default_factory=dict)
    """A cadence bundle's lead id → the bundle's other rows reserved with it."""
    interests: dict[int, set[str]] = field(default_factory=dict)
    """Topic interests of the participants who get a bundle (its order)."""

    def bundled(self, d: Delivery) -> bool:
        """Whether `d` leads a bundle of more than itself."""
        return bool(self.members.get(d.id))


def load_batch(session: Session, ids: Sequence[int]) -> Batch:
    """The deliveries `ids` with their participants, courses and suppressions."""
    order = {i: n for n, i in enumerate(ids)}
    deliveries = sorted(session.scalars(select(Delivery).where(Delivery.id.in_(list(ids)))),
                        key=lambda d: order[d.id])
    batch = Batch(deliveries=deliveries)
    pids = {d.participant_id for d in deliveries if d.participant_id is not None}
    if pids:
        batch.participants = {p.id: p for p in session.scalars(
            select(Participant).where(Participant.id.in_(pids)))}
        emails = {p.email for p in batch.participants.values()}
        batch.suppressed = set(session.scalars(
            select(Suppression.email).where(Suppression.email.in_(emails))))
    leads = [d.id for d in deliveries if d.bundle == d.id]
    if leads:
        # Only the bundle's index in SQL: with the state in the WHERE clause too, SQLite
        # (no statistics) walked every pending row by `ix_deliveries_due` for each batch.
        for m in session.scalars(
                select(Delivery).where(Delivery.bundle.in_(leads), Delivery.id.not_in(leads))
                .order_by(Delivery.id)):
            if m.lease_owner is not None and m.state in ("pending", "retrying"):
                batch.members.setdefault(m.bundle or 0, []).append(m)
        owners = {d.id: d.lease_owner for d in deliveries}
        for lead, rows in list(batch.members.items()):
            rows[:] = [m for m in rows if m.lease_owner == owners.get(lead)]
            if not rows:
                del batch.members[lead]
        people = {d.participant_id for d in deliveries if d.id in batch.members}
        for pid, value in session.execute(
                select(ParticipantInterest.participant_id, ParticipantInterest.value)
                .where(ParticipantInterest.participant_id.in_(people),
                       ParticipantInterest.kind == "topic")):
            batch.interests.setdefault(pid, set()).add(value)
    cids = {d.course_id for d in deliveries if d.course_id is not None}
    cids.update(m.course_id for rows in batch.members.values() for m in rows if m.course_id)
    if cids:
        batch.courses = {c.id: c for c in session.scalars(
            select(Course).where(Course.id.in_(cids)))}
    return batch
