"""`SendPath.begin_sends`: a group of deliveries marked `sending` in one commit, each row
with every check of `begin_send` on its own (issue 22: sessions freed together)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import sessionmaker

from scheduler.db import ensure_schema, make_engine
from scheduler.models import Delivery, Participant, Suppression
from scheduler.outbox import Leases, Outcome, SendPath, Start
from tests.postgres.conftest import pg_server_url, pg_url  # noqa: F401 (fixtures)

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
OWNER = "host:1:abcd"
# participant id: (address, status); b's address was bounced, c unsubscribed.
PEOPLE = {1: ("a@example.org", "active"), 2: ("b@example.org", "active"),
          3: ("c@example.org", "unsubscribed"), 4: ("d@example.org", "active")}
# delivery id: (participant, bundle lead or None)
ROWS = {1: (1, None), 2: (2, None), 3: (3, None), 5: (4, 5), 6: (4, 5), 7: (3, 7), 8: (3, 7),
        9: (1, None)}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (f"sqlite:///{tmp_path / 'g.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    built = make_engine(url)
    ensure_schema(built)
    with built.begin() as c:
        c.execute(insert(Participant), [
            {"id": i, "email": email, "status": status, "created_at": NOW, "updated_at": NOW}
            for i, (email, status) in PEOPLE.items()])
        c.execute(insert(Suppression).values(email="b@example.org", reason="bounce",
                                             created_at=NOW))
        c.execute(insert(Delivery), [
            {"id": i, "dedup_key": f"k{i}", "campaign": "announce", "kind": "course_email",
             "channel": "email", "template": "email/course_announcement", "state": "pending",
             "due_at": NOW, "attempts": 0, "participant_id": p, "bundle": lead,
             "lease_owner": OWNER, "lease_expires_at": NOW + timedelta(minutes=5),
             "created_at": NOW, "updated_at": NOW} for i, (p, lead) in ROWS.items()])
    yield built
    built.dispose()


def start(i: int) -> Start:
    participant, lead = ROWS[i]
    return Start(i, participant, PEOPLE[participant][0], None, bundled=lead == i)


def test_a_group_begins_in_one_commit_and_refuses_rows_one_by_one(engine: Engine) -> None:
    leases = Leases(sessionmaker(engine), lambda: NOW, owner=OWNER)
    path = SendPath(engine, leases)
    with path.worker() as pending:
        assert path.begin_sends([start(9)], NOW, pending) == [True]
        path.record(9, Outcome("sent", "sent", None, {"sent_at": NOW}), NOW,
                    pending=pending)  # queued for the group's commit
        began = path.begin_sends([start(i) for i in (1, 2, 3, 5, 7)],
                                 NOW + timedelta(seconds=1), pending)
        # Suppressed (2), unsubscribed (3, and the bundle led by 7): refused, the rest go.
        assert began == [True, False, False, True, False]
        # In flight: the ones that began (their outcomes not yet written).
        assert leases.in_flight() == {1, 5}
    with engine.connect() as c:
        rows = {i: (state, started) for i, state, started in c.execute(
            select(Delivery.id, Delivery.state, Delivery.send_started_at))}
    states = {i: state for i, (state, _) in rows.items()}
    assert states == {1: "sending", 2: "pending", 3: "pending", 5: "sending", 6: "sending",
                      7: "pending", 8: "pending", 9: "sent"}
    # One commit: every row that began carries the group's start time.
    started = {rows[i][1] for i in (1, 5, 6)}
    assert len(started) == 1 and None not in started

