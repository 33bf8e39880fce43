"""Leases and the reaper: whose rows are settled, and when (issue 17, point 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler import outbox
from scheduler.filter import Filter
from scheduler.models import Delivery, DeliveryEvent

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


class Tick:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def put(sessions: sessionmaker[Session], key: str, **values: object) -> int:
    with sessions() as s, s.begin():
        new = outbox.enqueue(s, now=NOW, dedup_key=key, campaign="c", kind="course_email",
                             channel="email", template="t", due_at=NOW, participant_id=1)
        assert new is not None
        # A course email is claimed as the lead of its cadence bundle (issue 16): here,
        # a bundle of itself, as cadence's pass leaves a lone due row.
        s.execute(update(Delivery).where(Delivery.id == new).values(**{"bundle": new,
                                                                      **values}))
    return new


def state(sessions: sessionmaker[Session], delivery_id: int) -> tuple[str, str | None]:
    with sessions() as s:
        d = s.get(Delivery, delivery_id)
        assert d is not None
        return d.state, d.lease_owner


def test_own_expired_sending_rows_not_in_flight_become_unknown(
        sessions: sessionmaker[Session]) -> None:
    clock = Tick(NOW)
    leases = outbox.Leases(sessions, clock, lease=timedelta(minutes=5))
    expires = NOW + timedelta(minutes=5)
    lost = put(sessions, "lost", state="sending", lease_owner=leases.owner,
               lease_expires_at=expires)
    flying = put(sessions, "flying", state="sending", lease_owner=leases.owner,
                 lease_expires_at=expires)
    reserved = put(sessions, "reserved", lease_owner=leases.owner, lease_expires_at=expires)
    leases.taking_off(flying)  # a send still under way (a slow server)
    assert leases.recover() == {}  # nothing expired yet
    clock.now = NOW + timedelta(minutes=6)
    assert leases.recover() == {"unknown": 1}
    assert state(sessions, lost) == ("unknown", None)
    assert state(sessions, flying) == ("sending", leases.owner)
    assert state(sessions, reserved) == ("pending", leases.owner)  # its drain frees it
    leases.landed([flying])  # its worker ended without an outcome
    assert leases.recover() == {"unknown": 1}
    assert state(sessions, flying) == ("unknown", None)
    with sessions() as s:
        got = s.execute(select(DeliveryEvent.delivery_id, DeliveryEvent.type,
                               DeliveryEvent.detail)).all()
    assert sorted(got) == sorted([(lost, "unknown", "lease expired while sending"),
                                  (flying, "unknown", "lease expired while sending")])


def test_other_owners_are_settled_when_expired_and_left_alone_while_alive(
        sessions: sessionmaker[Session]) -> None:
    clock = Tick(NOW)
    leases = outbox.Leases(sessions, clock)
    other = "elsewhere:1:abcd"  # another host: never judged dead from here
    live = put(sessions, "live", state="sending", lease_owner=other,
               lease_expires_at=NOW + timedelta(minutes=5))
    stale = put(sessions, "stale", lease_owner=other, lease_expires_at=NOW - timedelta(1))
    assert leases.recover() == {"released": 1}
    assert state(sessions, live) == ("sending", other)
    assert state(sessions, stale) == ("pending", None)


def test_claim_limited_to_given_delivery_ids(sessions: sessionmaker[Session]) -> None:
    leases = outbox.Leases(sessions, Tick(NOW))
    ids = [put(sessions, f"k{n}") for n in range(5)]
    assert leases.claim("email", Filter(delivery_ids=frozenset(ids[1:3])), 100) == ids[1:3]
    assert leases.claim("email", Filter(), 100) == [ids[0], *ids[3:]]
