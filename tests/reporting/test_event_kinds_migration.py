"""Migration 0007: rows written before it get the event log's exact kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from alembic import command
from sqlalchemy import Table, insert, select

from scheduler.db import alembic_config, make_engine
from scheduler.models import DeliveryEvent

AT = datetime(2027, 1, 11, 9, tzinfo=UTC)


def test_0007_posts_become_posted_and_send_time_bounces_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0006")
    e = cast(Table, DeliveryEvent.__table__)
    rows = [(1, "sent", "social", ""),     # a post, as 0006 wrote it
            (2, "sent", "email", ""),      # an email, then a DSN's hard bounce
            (2, "bounced", "email", "hard"),
            (3, "bounced", "email", "hard"),  # refused at send time: never sent
            (4, "bounced", "email", "soft")]
    with engine.begin() as c:
        for delivery, kind, medium, category in rows:
            c.execute(insert(e).values(delivery_id=delivery, type=kind, at=AT, medium=medium,
                                       category=category))

    def kinds() -> list[tuple[int, str, str]]:
        with engine.connect() as c:
            return [(int(d), str(k), str(cat)) for d, k, cat in c.execute(
                select(e.c.delivery_id, e.c.type, e.c.category).order_by(e.c.id))]

    command.upgrade(cfg, "0007")
    assert kinds() == [(1, "posted", ""), (2, "sent", ""), (2, "bounced", "hard"),
                       (3, "bounced", "refused"), (4, "bounced", "soft")]
    command.downgrade(cfg, "0006")
    assert kinds() == [(d, k, c) for d, k, _, c in rows]
    engine.dispose()
