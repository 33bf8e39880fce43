"""Migration 0009: the masks of participants stored before it are worked out, as Herald's
writers store them; downgrade drops them and leaves the interests as they were."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select, text

from scheduler.db import alembic_config, make_engine, session_factory
from scheduler.participants import import_participants
from tests.test_matching_stored import masks, record, worked_out_again

NOW = datetime(2027, 1, 10, 8, tzinfo=UTC)


def test_0009_works_out_the_masks_and_downgrade_drops_them(tmp_path: Path) -> None:
    import random

    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0008")
    rnd = random.Random(3)
    rows = [record(f"m{i}@example.org", rnd) for i in range(40)]
    with engine.begin() as c:  # as 0008's importer stored them: no masks
        for i, r in enumerate(rows, 1):
            c.execute(text(
                "INSERT INTO participants (id, email, name, language, country, timezone, "
                "frequency, status, any_topic, any_region, any_mode, any_language, "
                "created_at, updated_at) VALUES (:id, :email, '', :lang, '', 'UTC', "
                "'immediate', 'active', :t, :r, :m, :l, :now, :now)"),
                {"id": i, "email": r.email, "lang": r.language, "t": not r.topics,
                 "r": not r.regions, "m": not r.modes, "l": not r.languages,
                 "now": NOW.replace(tzinfo=None)})
            for kind, value in r.interests():
                c.execute(text("INSERT INTO participant_interests VALUES (:p, :k, :v)"),
                          {"p": i, "k": kind, "v": value})
    command.upgrade(cfg, "0009")
    sessions = session_factory(engine)
    with sessions() as s, s.begin():
        upgraded = masks(s)
        assert len(upgraded) == 40 and all(None not in m for m in upgraded.values())
        assert upgraded == worked_out_again(s)
        # The importer, updating the same profiles (their names differ), stores the same.
        assert len(import_participants(s, rows, now=NOW).updated) == 40
        assert masks(s) == upgraded
    command.downgrade(cfg, "0008")
    insp = inspect(engine)
    assert "interest_keys" not in insp.get_table_names()
    assert not {"topic_bits", "language_bits"} & {c["name"] for c in insp.get_columns(
        "participants")}
    with engine.connect() as c:
        assert c.scalar(select(text("count(*)")).select_from(
            text("participant_interests"))) == sum(len(list(r.interests())) for r in rows)
    engine.dispose()
