"""Links made ahead for a batch are exactly the links made on time, for the right rows."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any, cast

import pytest

from scheduler.batch import Batch
from scheduler.links import MessageLinks
from scheduler.links_ahead import AHEAD, LinksAhead

KEY = b"ahead-key"
BASE = "https://herald.example.org/"


def batch(n: int) -> Batch:
    """`n` deliveries: course emails, digests (no course), a bundle lead, a delivery of a
    participant not read, a course whose URL is not http(s)."""
    courses = {f"C{i}": SimpleNamespace(id=f"C{i}", url=f"https://example.org/c/{i}?a=1&b=é")
               for i in range(5)}
    courses["BAD"] = SimpleNamespace(id="BAD", url="javascript:alert(1)")
    people = {i: SimpleNamespace(id=i, email=f"p{i}@exämple.org") for i in range(n)}
    deliveries = []
    for i in range(n):
        course_id = None if i % 7 == 3 else ("BAD" if i == 5 else f"C{i % 5}")
        deliveries.append(SimpleNamespace(id=1000 + i, participant_id=i if i != 9 else 10**6,
                                          course_id=course_id, dedup_key=f"announce:{i}",
                                          campaign=f"camp{i % 3}"))
    members = {1000 + 11: [SimpleNamespace(id=5000)]}
    return Batch(deliveries=cast(Any, deliveries), participants=cast(Any, people),
                 courses=cast(Any, courses), members=cast(Any, members))


def test_links_made_ahead_are_the_links_made_on_time() -> None:
    b = batch(3 * AHEAD + 5)
    make = MessageLinks(BASE, KEY)
    ahead = LinksAhead()
    order = list(b.deliveries)
    order[10:40] = reversed(order[10:40])  # taken out of order too
    for d in order:
        got = ahead.take(make, d, b)
        if d.participant_id not in b.participants or d.id in b.members:
            assert got is None
            continue
        assert got is not None and got.delivery is d
        p = b.participants[d.participant_id]
        assert got.participant is p
        assert got.unsubscribe == make.unsubscribe(p.id, p.email, d.campaign)
        assert got.preferences == make.preferences(p.id, p.email)
        if d.course_id is None or d.course_id == "BAD":
            assert got.click is None
        else:
            assert got.course is b.courses[d.course_id]
            assert got.click == make.click(d.dedup_key, b.courses[d.course_id].url)


def test_a_new_batch_or_a_delivery_not_in_it_is_not_served_old_links() -> None:
    make = MessageLinks(BASE, KEY)
    ahead = LinksAhead()
    first, second = batch(20), batch(20)
    assert ahead.take(make, first.deliveries[0], first) is not None
    # Same ids, another batch: made again from the second batch's rows.
    got = ahead.take(make, second.deliveries[1], second)
    assert got is not None and got.delivery is second.deliveries[1]
    stranger = SimpleNamespace(id=99999, participant_id=1, course_id="C1", dedup_key="x",
                               campaign="c")
    assert ahead.take(make, cast(Any, stranger), second) is None
    rnd = random.Random(3)
    for d in rnd.sample(second.deliveries, 10):
        got = ahead.take(make, d, second)
        assert got is None or got.delivery is d


def test_batches_taken_in_turn_keep_their_links_made_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two channels draining at once share the builder: neither throws the other's away.
    import scheduler.links_ahead as module

    made: list[int] = []
    real = module._links

    def counted(make: MessageLinks, d: Any, b: Batch, *rest: Any) -> Any:
        made.append(d.id)
        return real(make, d, b, *rest)

    monkeypatch.setattr(module, "_links", counted)
    make = MessageLinks(BASE, KEY)
    ahead = LinksAhead()
    first, second = batch(2 * AHEAD), batch(2 * AHEAD)
    for a, b in zip(first.deliveries, second.deliveries, strict=True):
        for d, which in ((a, first), (b, second)):
            got = ahead.take(make, d, which)
            assert got is None or got.delivery is d
    # Each email's links made once (a delivery that gets none is looked at again).
    plain = {d.id for d in first.deliveries
             if d.participant_id in first.participants and d.id not in first.members}
    assert all(made.count(i) == 2 for i in plain)  # once in each batch (same ids)
    assert len(made) <= 4 * AHEAD + 8
