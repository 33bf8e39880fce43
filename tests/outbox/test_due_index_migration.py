"""Migration 0008: the due index gains the row id, and loses it again on downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from scheduler.db import alembic_config, make_engine


def _due_columns(engine: object) -> list[str]:
    found = {ix["name"]: ix["column_names"]
             for ix in inspect(engine).get_indexes("deliveries")}  # type: ignore[arg-type]
    return [str(c) for c in found["ix_deliveries_due"]]


def test_0008_puts_the_id_at_the_end_of_the_due_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007")
    assert _due_columns(engine) == ["state", "due_at"]
    command.upgrade(cfg, "0008")
    assert _due_columns(engine) == ["state", "due_at", "id"]
    command.downgrade(cfg, "0007")
    assert _due_columns(engine) == ["state", "due_at"]
    engine.dispose()
