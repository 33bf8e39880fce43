"""A batch's signed links made a few dozen deliveries at a time, ahead of their builds.

Each email carries three signed links (unsubscribe, preferences, the course's click
redirect): three HMACs a message. Made one email at a time, between a commit and an SMTP
exchange, each starts with cold caches and costs two to three times what it costs in a
loop. The builder instead asks `LinksAhead` for a delivery's links; on a miss it makes
those of the next `AHEAD` deliveries of the batch together and keeps them until asked.

Links are a pure function of immutable inputs (the key, the base URL, the batch's rows),
so a link made ahead is the link made on time. The builder checks that the rows it holds
are the very rows the links were made from.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.batch import AnyCourse, AnyDelivery, AnyParticipant, Batch
from scheduler.links import MessageLinks

AHEAD = 64
"""Deliveries whose links are made together (at most one batch's worth are kept)."""


@dataclass(frozen=True, slots=True)
class MadeLinks:
    """One delivery's links and the rows they were made from."""

    delivery: AnyDelivery
    participant: AnyParticipant
    unsubscribe: str
    preferences: str
    course: AnyCourse | None
    click: str | None


class LinksAhead:
    """The links of the deliveries of the batch being built, made `AHEAD` at a time."""

    def __init__(self) -> None:
        self._batch: Batch | None = None
        self._position: dict[int, int] = {}
        self._made: dict[int, MadeLinks] = {}

    def take(self, make: MessageLinks, delivery: AnyDelivery, batch: Batch) -> MadeLinks | None:
        """`delivery`'s links (made now with those of the next deliveries if not yet), or
        None when it is not a plain email of `batch` (a bundle's lead, not in the batch)."""
        if batch is not self._batch:
            self._batch = batch
            self._position = {d.id: i for i, d in enumerate(batch.deliveries)}
            self._made = {}
        found = self._made.pop(delivery.id, None)
        if found is not None:
            return found
        start = self._position.get(delivery.id)
        if start is None:
            return None
        self._made = {}
        for d in batch.deliveries[start:start + AHEAD]:
            made = _links(make, d, batch)
            if made is not None:
                self._made[d.id] = made
        return self._made.pop(delivery.id, None)


def _links(make: MessageLinks, d: AnyDelivery, batch: Batch) -> MadeLinks | None:
    p = batch.participants.get(d.participant_id) if d.participant_id is not None else None
    if p is None or batch.bundled(d):
        return None
    course = batch.courses.get(d.course_id) if d.course_id is not None else None
    click = None
    if course is not None:
        try:
            click = make.click(d.dedup_key, course.url)
        except ValueError:  # made (and raised) again when the email is built
            click = None
    return MadeLinks(d, p, make.unsubscribe(p.id, p.email, d.campaign),
                     make.preferences(p.id, p.email), course, click)
