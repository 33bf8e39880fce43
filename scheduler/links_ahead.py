"""A batch's signed links (and course emails) made a few dozen deliveries at a time, ahead
of their builds.

Each email carries three signed links (unsubscribe, preferences, the course's click
redirect): three HMACs a message, then its render (the recipient filled into the shared
render of its course and language). Made one email at a time, between a commit and an
SMTP exchange, each starts with cold caches and costs two to three times what it costs in
a loop. The builder instead asks `LinksAhead` for a delivery's links; on a miss it makes
those of the next `AHEAD` deliveries of the batch together (and, given `render`, their
rendered emails) and keeps them until asked.

Links are a pure function of immutable inputs (the key, the base URL, the batch's rows),
so a link made ahead is the link made on time; a render also depends on the templates,
so it is stamped with the renderer's generation. The builder checks that the rows it
holds are the very rows they were made from, and the generation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.batch import AnyCourse, AnyDelivery, AnyParticipant, Batch
from scheduler.links import MessageLinks
from scheduler.rendering import RenderedEmail

AHEAD = 64
"""Deliveries whose links are made together."""


@dataclass(frozen=True, slots=True)
class MadeLinks:
    """One delivery's links (and rendered email) and the rows they were made from."""

    delivery: AnyDelivery
    participant: AnyParticipant
    unsubscribe: str
    preferences: str
    course: AnyCourse | None
    click: str | None
    rendered: RenderedEmail | None = None
    generation: int = 0


Render = Callable[[AnyDelivery, AnyParticipant, AnyCourse, str, str, str],
                  RenderedEmail | None]
"""(delivery, participant, course, click, preferences, unsubscribe) → its rendered email,
or None when it would not be sent."""


class _Ahead:
    """What was made ahead for one batch: its deliveries' positions, the made ones."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.position = {d.id: i for i, d in enumerate(batch.deliveries)}
        self.made: dict[int, MadeLinks] = {}


class LinksAhead:
    """The links of the deliveries of the batches being built, made `AHEAD` at a time.

    Thread-safe: a dispatcher's channels drain at once, each worker of a channel takes
    from the same batch. Each batch keeps its own made links (the last `BATCHES` batches,
    at most about `2 * AHEAD` each).
    """

    BATCHES = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[int, _Ahead] = {}

    def take(self, make: MessageLinks, delivery: AnyDelivery, batch: Batch,
             render: Render | None = None, generation: int = 0) -> MadeLinks | None:
        """`delivery`'s links (made now with those of the next deliveries if not yet), or
        None when it is not a plain email of `batch` (a bundle's lead, not in the batch).
        With `render`, course emails are rendered too, stamped with `generation`."""
        with self._lock:
            ahead = self._batches.get(id(batch))
            if ahead is None or ahead.batch is not batch:
                if len(self._batches) >= self.BATCHES:
                    del self._batches[next(iter(self._batches))]
                ahead = self._batches[id(batch)] = _Ahead(batch)
            found = ahead.made.pop(delivery.id, None)
            if found is not None:
                return found
            start = ahead.position.get(delivery.id)
            if start is None:
                return None
            if len(ahead.made) > AHEAD:  # left over by deliveries not built (a few MB at most)
                ahead.made.clear()
            for d in batch.deliveries[start:start + AHEAD]:
                if d.id not in ahead.made:
                    made = _links(make, d, batch, render, generation)
                    if made is not None:
                        ahead.made[d.id] = made
            return ahead.made.pop(delivery.id, None)


def _links(make: MessageLinks, d: AnyDelivery, batch: Batch, render: Render | None,
           generation: int) -> MadeLinks | None:
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
    unsubscribe = make.unsubscribe(p.id, p.email, d.campaign)
    preferences = make.preferences(p.id, p.email)
    rendered = None
    if render is not None and course is not None and click is not None:
        try:
            rendered = render(d, p, course, click, preferences, unsubscribe)
        except Exception:  # rendered (and raised) again when it is built
            rendered = None
    return MadeLinks(d, p, unsubscribe, preferences, course, click, rendered, generation)
