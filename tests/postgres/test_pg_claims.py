"""The claim on PostgreSQL: oldest due first across both states, each state read in index
order (no sort of every due row), and concurrent claimers never take a row twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from scheduler.db import ensure_schema, make_engine, session_factory
from scheduler.filter import Filter
from scheduler.outbox import Leases
from tests.outbox.claim_cases import NOW, explain, fill, statements


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("size", [1, 7, 100])
def test_claims_come_oldest_due_first_across_both_states(engine: Engine, size: int) -> None:
    expected = fill(engine)
    leases = Leases(session_factory(engine), lambda: NOW)
    got: list[int] = []
    while ids := leases.claim("email", Filter(), size):
        got += ids
    assert got == expected


def test_concurrent_claimers_take_every_row_once(engine: Engine) -> None:
    expected = fill(engine, claimable=600)
    sessions = session_factory(engine)
    start = threading.Barrier(4)
    batches: list[list[int]] = []

    def claimer() -> None:
        leases = Leases(sessions, lambda: NOW)
        start.wait()
        while ids := leases.claim("email", Filter(), 7):
            batches.append(ids)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in batches for i in ids]
    assert sorted(every) == sorted(expected)  # each once: none twice, none left
    assert all(ids == sorted(ids, key=expected.index) for ids in batches)


def paths_to_scans(node: dict[str, Any], path: tuple[str, ...] = ()
                   ) -> Iterator[tuple[str, ...]]:
    """The node types from the plan's top down to each scan of `deliveries`."""
    path = (*path, node["Node Type"])
    if node.get("Relation Name") == "deliveries":
        yield path
    for child in node.get("Plans", []):
        yield from paths_to_scans(child, path)


def test_the_claim_reads_each_state_in_index_order(engine: Engine) -> None:
    """EXPLAIN of the claim's SELECT on an analyzed outbox: no full Sort between a scan of
    `deliveries` and its LIMIT (`state IN (…) ORDER BY due_at, id` sorted every due row
    for each claim); an Incremental Sort over the due index's order is fine."""
    fill(engine, claimable=5000)
    with engine.begin() as c:  # as after a planning pass (scheduler.db_stats)
        c.execute(text("ANALYZE"))
    leases = Leases(session_factory(engine), lambda: NOW)
    with statements(engine) as seen:
        assert leases.claim("email", Filter(), 100)
    claim_sql, params = next((s, p) for s, p in seen if "ORDER BY" in s)
    plan = explain(engine, "EXPLAIN (FORMAT JSON) ", claim_sql, params,
                   rows=lambda rows: rows[0][0][0]["Plan"])
    assert "ix_deliveries_due" in str(plan), plan
    paths = list(paths_to_scans(plan))
    assert len(paths) == 2, plan  # one per claimable state
    for path in paths:
        below_limit = path[len(path) - path[::-1].index("Limit"):]
        assert "Sort" not in below_limit, plan
