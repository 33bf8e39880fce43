"""TEMPORARY (branch i19-admin): the outbox API's `enqueue`, as branch i14-outbox defines it,
so this branch can plan before that merge. The merge replaces this file with the real
package; keep nothing else here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.db import insert_ignore
from scheduler.models import Delivery, DeliveryState

__all__ = ["enqueue"]


def enqueue(session: Session, *, now: datetime, **values: Any) -> int | None:
    """Insert one delivery unless its `dedup_key` exists; the new id, or None if it did."""
    row = {"state": DeliveryState.PENDING.value, "attempts": 0, "created_at": now,
           "updated_at": now, **values}
    stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name).values(**row)
    new_id = session.execute(stmt.returning(Delivery.__table__.c.id)).scalar()
    return None if new_id is None else int(new_id)
