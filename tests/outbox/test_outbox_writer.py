"""`OutboxWriter` runs a worker's writes as one transaction, on SQLite and PostgreSQL.

On PostgreSQL the statements travel as one multi-statement query: it must still be all or
nothing, report the last statement's row count, and hand its connection back to the pool
as it was lent (not in autocommit mode).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ClauseElement, Engine, func, insert, select, update

from scheduler.db import ensure_schema, make_engine
from scheduler.models import Delivery, DeliveryEvent
from scheduler.outbox import statements as sql
from scheduler.outbox.prepared import PreparedCache
from scheduler.outbox.writer import OutboxWriter, Pending
from tests.postgres.conftest import pg_server_url, pg_url  # noqa: F401 (fixtures)

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
OWNER = "host:1:abcd"
Write = tuple[ClauseElement, dict[str, object]]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    built = make_engine(url)
    ensure_schema(built)
    with built.begin() as c:
        c.execute(insert(Delivery), [
            {"id": i, "dedup_key": f"k{i}", "campaign": "announce", "kind": "post",
             "channel": "x", "template": "social/course_post", "state": "pending",
             "due_at": NOW, "attempts": 0, "lease_owner": OWNER,
             "lease_expires_at": NOW + timedelta(minutes=5), "created_at": NOW,
             "updated_at": NOW} for i in (1, 2, 3)])
    yield built
    built.dispose()


def writer_for(engine: Engine) -> OutboxWriter:
    return OutboxWriter(engine, PreparedCache(engine.dialect), threading.Lock())


def sent(i: int) -> Write:
    return (sql.FINISH, {"p_id": i, "p_state": "sent", "p_now": NOW, "p_error": None,
                         "p_sent_at": NOW, "p_provider_id": f"<m{i}@example.org>",
                         "p_due_at": None, "p_attempts": None})


def event(i: int) -> Write:
    return (sql.EVENT, {"p_delivery_id": i, "p_type": "sent", "p_at": NOW, "p_detail": ""})


def sending(i: int, owner: str = OWNER) -> Write:
    return (sql.BEGIN_SEND[(False, False)], {"p_id": i, "p_owner": owner, "p_now": NOW,
                                             "p_expires": NOW + timedelta(minutes=5)})


def states(engine: Engine) -> dict[int, str]:
    with engine.connect() as c:
        return {i: state for i, state in c.execute(select(Delivery.id, Delivery.state))}


def events(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(DeliveryEvent)) or 0)


def test_writes_commit_together_and_report_the_last_row_count(engine: Engine) -> None:
    writer = writer_for(engine)
    try:
        assert writer.write([sending(1)]) == 1
        assert writer.write([sent(1), event(1), sending(2)]) == 1
        # The lease is someone else's: no row, while the outcome before it still lands.
        assert writer.write([sent(2), event(2), sending(3, owner="other:2:ffff")]) == 0
    finally:
        writer.close()
    assert states(engine) == {1: "sent", 2: "sent", 3: "pending"}
    assert events(engine) == 2
    with engine.connect() as c:
        row = c.execute(select(Delivery.provider_id, Delivery.sent_at, Delivery.lease_owner)
                        .where(Delivery.id == 1)).one()
    assert row.provider_id == "<m1@example.org>" and row.lease_owner is None
    assert row.sent_at is not None and row.sent_at.replace(tzinfo=UTC) == NOW


def test_a_failing_statement_undoes_the_whole_write(engine: Engine) -> None:
    writer = writer_for(engine)
    try:
        broken = (sql.FINISH, {**sent(2)[1], "p_state": None})  # state is NOT NULL
        # The driver's own error: the writer works below SQLAlchemy.
        with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError):
            writer.write([sent(1), event(1), broken])
        assert states(engine) == {1: "pending", 2: "pending", 3: "pending"}
        assert events(engine) == 0
        assert writer.write([sent(1), event(1)]) == 1  # the writer is usable again
    finally:
        writer.close()
    assert states(engine)[1] == "sent"


def test_pending_outcomes_go_with_the_next_write(engine: Engine) -> None:
    pending = Pending(writer_for(engine))
    try:
        pending.extend([sent(1), event(1)])
        assert states(engine)[1] == "pending"  # queued, not written
        assert pending.flush([sending(2)]) == 1
        assert not pending
    finally:
        pending.writer.close()
    assert states(engine) == {1: "sent", 2: "sending", 3: "pending"}


def test_the_connection_goes_back_to_the_pool_as_it_was_lent(engine: Engine) -> None:
    writer_for(engine).close()
    # The pool hands the same connection out again: a rollback must still undo a write.
    with engine.connect() as c:
        c.execute(update(Delivery).where(Delivery.id == 1).values(state="failed"))
        c.rollback()
    assert states(engine)[1] == "pending"


def test_a_group_begins_in_one_commit_each_row_checked_on_its_own(engine: Engine) -> None:
    pending = Pending(writer_for(engine))
    try:
        assert pending.flush([sending(1)]) == 1
        pending.extend([sent(1), event(1)])
        # Two gates: 2 may begin (its follower runs), 3's lease is someone else's (refused,
        # its follower does not run); the queued outcome lands in the same commit.
        began = pending.flush_gated([(sending(2), [event(2)]),
                                     (sending(3, owner="other:2:ffff"), [event(3)])])
        assert began == [True, False]
        assert not pending
    finally:
        pending.writer.close()
    assert states(engine) == {1: "sent", 2: "sending", 3: "pending"}
    with engine.connect() as c:
        assert sorted(c.scalars(select(DeliveryEvent.delivery_id))) == [1, 2]


def test_a_failing_gate_undoes_the_whole_group(engine: Engine) -> None:
    writer = writer_for(engine)
    try:
        broken = (sql.FINISH, {**sent(3)[1], "p_state": None})  # state is NOT NULL
        with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError):
            writer.write_gated([sent(1), event(1)], [(sending(2), []), (broken, [])])
        assert states(engine) == {1: "pending", 2: "pending", 3: "pending"}
        assert events(engine) == 0
        assert writer.write_gated([], [(sending(2), [event(2)])]) == [True]
    finally:
        writer.close()
    assert states(engine)[2] == "sending" and events(engine) == 1
