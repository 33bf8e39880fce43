"""The claim on SQLite: oldest due first across `pending` and `retrying`, by (due_at, id),
read from the due index in order (no sort of every due row: O(N) a claim)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text

from scheduler.db import session_factory
from scheduler.filter import Filter
from scheduler.models import Delivery
from scheduler.outbox import Leases
from tests.outbox.claim_cases import NOW, explain, fill, statements


@pytest.mark.parametrize("size", [1, 4, 7, 100])
def test_claims_come_oldest_due_first_across_both_states(engine: Engine, size: int) -> None:
    expected = fill(engine)
    leases = Leases(session_factory(engine), lambda: NOW)
    got: list[int] = []
    while ids := leases.claim("email", Filter(), size):
        assert len(ids) <= size
        got += ids
    assert got == expected
    with engine.connect() as c:
        owners = {i: o for i, o in c.execute(select(Delivery.id, Delivery.lease_owner))}
    assert all(owners[i] == leases.owner for i in expected)
    assert owners[2005] == leases.owner  # the first lead's bundle member, reserved with it
    assert owners[2004] != leases.owner
    assert {owners[i] for i in (2000, 2001, 2002, 2003, 2006)} == {None}


def test_a_claim_with_a_filter_keeps_the_order(engine: Engine) -> None:
    expected = fill(engine)
    leases = Leases(session_factory(engine), lambda: NOW)
    wanted = frozenset(expected[3:12:2])
    assert leases.claim("email", Filter(delivery_ids=wanted), 3) == expected[3:8:2]
    assert leases.claim("email", Filter(campaign="other"), 3) == []
    assert leases.claim("email", Filter(campaign="c"), 100) == [
        i for i in expected if i not in expected[3:8:2]]


def test_an_expired_lease_is_claimable_again(engine: Engine) -> None:
    expected = fill(engine, claimable=3)
    sessions = session_factory(engine)
    first = Leases(sessions, lambda: NOW, lease=timedelta(minutes=5))
    assert first.claim("email", Filter(), 100) == expected
    later = Leases(sessions, lambda: NOW + timedelta(minutes=6))
    # 2004's lease (another owner's, until NOW + 3 min) has expired too; it is the oldest.
    assert later.claim("email", Filter(), 100) == [2004, *expected]


@pytest.mark.parametrize("analyzed", [False, True])
def test_the_claim_reads_each_state_in_index_order(engine: Engine, analyzed: bool) -> None:
    """EXPLAIN QUERY PLAN of the claim's SELECT: each state's rows are searched in
    `ix_deliveries_due`, and no temporary B-tree sorts them: the only sort is the top
    one, of the two arms' merged `LIMIT` rows. (`state IN (…) ORDER BY due_at, id` had
    its B-tree next to the index search: every due row sorted for each claim.)"""
    fill(engine, claimable=300)
    if analyzed:  # as after a planning pass (scheduler.db_stats)
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
    leases = Leases(session_factory(engine), lambda: NOW)
    with statements(engine) as seen:
        assert leases.claim("email", Filter(), 100)
    claim_sql, params = next((s, p) for s, p in seen if "ORDER BY" in s)
    plan = explain(engine, "EXPLAIN QUERY PLAN ", claim_sql, params)
    nodes = {node: (parent, detail) for node, parent, _unused, detail in plan}
    searches = [parent for parent, detail in nodes.values()
                if detail.startswith("SEARCH deliveries USING INDEX ix_deliveries_due")]
    sorts = [parent for parent, detail in nodes.values() if "TEMP B-TREE" in detail]
    assert len(searches) == 2, plan  # one per claimable state
    assert not set(searches) & set(sorts), plan  # no sort in a search's own loop
    assert all(parent == 0 for parent in sorts), plan  # only the merge at the top
