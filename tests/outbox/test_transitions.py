"""The outbox's transitions outside the send path, on a real (SQLite) database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import outbox
from scheduler.errors import InputError
from scheduler.models import Delivery, DeliveryEvent, Participant

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def add(s: Session, key: str, **values: Any) -> int:
    new = outbox.enqueue(s, now=NOW, dedup_key=key, campaign="c", kind="course_email",
                         channel="email", template="email/announcement", due_at=NOW, **values)
    assert new is not None
    return new


def rows(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str | None]]:
    with sessions() as s:
        return {d.dedup_key: (d.state, d.lease_owner) for d in s.scalars(select(Delivery))}


def events(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions() as s:
        return [(e.delivery_id, e.type, e.detail) for e in
                s.scalars(select(DeliveryEvent).order_by(DeliveryEvent.id))]


def test_enqueue_inserts_once_per_dedup_key(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        first = add(s, "k1", participant_id=1, course_id="A1")
        again = outbox.enqueue(s, now=LATER, dedup_key="k1", campaign="other", kind="x",
                               channel="email", template="t", due_at=LATER)
        second = add(s, "k2")
    assert again is None and second != first
    with sessions() as s:
        d = s.get(Delivery, first)
        assert d is not None
        assert (d.campaign, d.state, d.attempts, d.course_id) == ("c", "pending", 0, "A1")
        assert d.created_at == d.updated_at == NOW


def test_cancel_for_participant_in_the_callers_transaction(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        mine = [add(s, f"p7:{state}", participant_id=7) for state in
                ("pending", "retrying", "sending", "sent", "reserved")]
        other = add(s, "p8", participant_id=8)
        s.execute(Delivery.__table__.update().where(Delivery.id == mine[1])  # type: ignore[attr-defined]
                  .values(state="retrying"))
        s.execute(Delivery.__table__.update().where(Delivery.id == mine[2])  # type: ignore[attr-defined]
                  .values(state="sending", lease_owner="x"))
        s.execute(Delivery.__table__.update().where(Delivery.id == mine[3])  # type: ignore[attr-defined]
                  .values(state="sent"))
        s.execute(Delivery.__table__.update().where(Delivery.id == mine[4])  # type: ignore[attr-defined]
                  .values(lease_owner="x", lease_expires_at=LATER))
    # Rolled back with the caller's transaction: nothing changes.
    with sessions() as s:
        s.begin()
        assert outbox.cancel_for_participant(s, 7, now=LATER, reason="unsubscribed") == 3
        s.rollback()
    assert rows(sessions)["p7:pending"] == ("pending", None)
    assert events(sessions) == []
    with sessions() as s, s.begin():
        assert outbox.cancel_for_participant(s, 7, now=LATER, reason="unsubscribed") == 3
    after = rows(sessions)
    assert after["p7:pending"] == after["p7:retrying"] == after["p7:reserved"] == (
        "cancelled", None)
    assert after["p7:sending"] == ("sending", "x") and after["p7:sent"] == ("sent", None)
    assert after["p8"] == ("pending", None)
    assert sorted(events(sessions)) == sorted(
        (i, "cancelled", "unsubscribed") for i in (mine[0], mine[1], mine[4]))
    assert other not in {e[0] for e in events(sessions)}


def test_cancel_for_participant_uses_the_participant_index(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    seen: list[tuple[str, Any]] = []

    def watch(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any,
              _many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE DELIVERIES"):
            seen.append((statement, params))

    with sessions() as s, s.begin():
        for n in range(50):
            add(s, f"k{n}", participant_id=n % 5)
    event.listen(engine, "before_cursor_execute", watch)
    try:
        with sessions() as s, s.begin():
            outbox.cancel_for_participant(s, 3, now=LATER, reason="erased")
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    (statement, params), = seen
    with engine.connect() as c:
        plan = c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_deliveries_participant" in details, details
    assert "SCAN deliveries" not in details.replace("USING", "")


def test_cancel_for_course(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        a = add(s, "a", course_id="A1", participant_id=1)
        add(s, "b", course_id="B1", participant_id=1)
    with sessions() as s, s.begin():
        assert outbox.cancel_for_course(s, ["A1", "Z9"], now=LATER) == 1
    assert rows(sessions) == {"a": ("cancelled", None), "b": ("pending", None)}
    assert events(sessions) == [(a, "cancelled", "course A1 cancelled")]


def test_operator_retry_and_cancel(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        d = add(s, "a")
        s.execute(Delivery.__table__.update().where(Delivery.id == d)  # type: ignore[attr-defined]
                  .values(state="unknown", attempts=3))
    assert outbox.operator_retry(sessions, d, LATER) == ("unknown", "pending")
    with sessions() as s:
        row = s.get(Delivery, d)
        assert row is not None
        assert (row.state, row.attempts, row.due_at) == ("pending", 0, LATER)
    with pytest.raises(InputError, match=r"delivery \d+ is 'pending'; only failed or unknown"):
        outbox.operator_retry(sessions, d, LATER)
    with sessions() as s, s.begin():  # in the caller's session too
        assert outbox.operator_cancel(s, d, LATER) == ("pending", "cancelled")
    with pytest.raises(InputError, match="no delivery with id 999"):
        outbox.operator_cancel(sessions, 999, LATER)
    assert [e[1:] for e in events(sessions)] == [("retried", "operator"),
                                                ("cancelled", "operator")]


def test_suppress_for_address(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        gone = Participant(email="gone@example.org", name="Gone", language="en",
                           country="Kenya", timezone="Africa/Nairobi", frequency="immediate",
                           status="active", created_at=NOW, updated_at=NOW)
        kept = Participant(email="kept@example.org", name="Kept", language="en",
                           country="Kenya", timezone="Africa/Nairobi", frequency="immediate",
                           status="active", created_at=NOW, updated_at=NOW)
        s.add_all([gone, kept])
        s.flush()
        a = add(s, "a", participant_id=gone.id)
        add(s, "b", participant_id=kept.id)
    with sessions() as s, s.begin():
        assert outbox.suppress_for_address(s, "gone@example.org", now=LATER,
                                           reason="bounced") == 1
    assert rows(sessions) == {"a": ("suppressed", None), "b": ("pending", None)}
    assert events(sessions) == [(a, "suppressed", "bounced")]


def test_given_a_session_factory_a_transition_commits_on_its_own(
        sessions: sessionmaker[Session]) -> None:
    new = outbox.enqueue(sessions, now=NOW, dedup_key="solo", campaign="c", kind="k",
                         channel="email", template="t", due_at=NOW, participant_id=4)
    assert new is not None
    assert outbox.cancel_for_participant(sessions, 4, now=LATER, reason="erased") == 1
    assert rows(sessions) == {"solo": ("cancelled", None)}
    assert events(sessions) == [(new, "cancelled", "erased")]
