"""Migration 0008: one index on the deliveries' state, (state, due_at, channel), instead of
two; the claim still walks it; downgrade puts the two back. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from alembic import command
from sqlalchemy import Engine, Table, insert, inspect, select

from scheduler.db import alembic_config, make_engine
from scheduler.models import Delivery
from tests.postgres.conftest import pg_server_url, pg_url  # noqa: F401 (fixtures)

NOW = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
D = cast(Table, Delivery.__table__)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    built = make_engine(url)
    yield built
    built.dispose()


def state_indexes(engine: Engine) -> dict[str, list[str]]:
    found = {ix["name"]: [str(c) for c in ix["column_names"]]
             for ix in inspect(engine).get_indexes("deliveries")}
    return {name: cols for name, cols in found.items()
            if name in ("ix_deliveries_due", "ix_deliveries_channel_state")}


def rows(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as c:
        return [(int(i), str(s), str(ch)) for i, s, ch in c.execute(
            select(D.c.id, D.c.state, D.c.channel).order_by(D.c.id))]


def test_0008_one_state_index_and_back(engine: Engine) -> None:
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007")
    assert state_indexes(engine) == {"ix_deliveries_due": ["state", "due_at"],
                                     "ix_deliveries_channel_state": ["channel", "state"]}
    with engine.begin() as c:
        c.execute(insert(D), [
            {"id": i, "dedup_key": f"k{i}", "campaign": "announce", "kind": "course_email",
             "channel": ("email", "x")[i % 2], "template": "t",
             "state": ("pending", "sent", "retrying")[i % 3],
             "due_at": NOW + timedelta(minutes=i), "attempts": 0, "created_at": NOW,
             "updated_at": NOW} for i in range(1, 13)])
    before = rows(engine)

    command.upgrade(cfg, "0008")
    assert state_indexes(engine) == {"ix_deliveries_due": ["state", "due_at", "channel"]}
    assert rows(engine) == before

    command.downgrade(cfg, "0007")
    assert state_indexes(engine) == {"ix_deliveries_due": ["state", "due_at"],
                                     "ix_deliveries_channel_state": ["channel", "state"]}
    assert rows(engine) == before


def test_the_claim_walks_the_state_index_on_sqlite(tmp_path: Path) -> None:
    """The claim's shape (leases.Leases.claim): due rows of one channel, oldest first."""
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as c:
        plan = " | ".join(str(r[3]) for r in c.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE channel = 'email' "
            "AND state IN ('pending', 'retrying') AND due_at <= '2027-01-11 09:30:00' "
            "AND (lease_expires_at IS NULL OR lease_expires_at < '2027-01-11 09:30:00') "
            "ORDER BY due_at, id LIMIT 100"))
    engine.dispose()
    assert "ix_deliveries_due (state=? AND due_at<?)" in plan, plan
