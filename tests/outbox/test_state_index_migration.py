"""Migration 0010: one index of the delivery state replaces two, and back on downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from scheduler.db import alembic_config, make_engine


def _indexes(engine: object) -> dict[str, list[str]]:
    return {str(ix["name"]): [str(c) for c in ix["column_names"]]
            for ix in inspect(engine).get_indexes("deliveries")}  # type: ignore[arg-type]


def test_0010_merges_the_state_indexes_and_downgrade_restores_them(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0009")
    before = _indexes(engine)
    assert before["ix_deliveries_due"] == ["state", "due_at", "id"]
    assert before["ix_deliveries_channel_state"] == ["channel", "state"]
    command.upgrade(cfg, "0010")
    after = _indexes(engine)
    assert after["ix_deliveries_due"] == ["state", "channel", "due_at", "id"]
    assert "ix_deliveries_channel_state" not in after
    assert set(after) == set(before) - {"ix_deliveries_channel_state"}
    with engine.connect() as c:
        plan = " ".join(str(row[-1]) for row in c.execute(text(
            "EXPLAIN QUERY PLAN SELECT channel, state, count(*) FROM deliveries"
            " GROUP BY channel, state")))
    assert "COVERING INDEX ix_deliveries_due" in plan, plan
    command.downgrade(cfg, "0009")
    assert _indexes(engine) == before
    engine.dispose()


def test_a_new_database_has_small_pages(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    with engine.connect() as c:
        assert c.execute(text("PRAGMA page_size")).scalar() == 2048
    engine.dispose()
