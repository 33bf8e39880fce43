"""TEMPORARY stand-in for the outbox API of branch i14-outbox (same names and signatures).

The merge of i14-outbox replaces this file with the real package's `__init__`; only
`enqueue` and `cancel_for_participant` are used by branch i15-web. The modules
`immediate` and `privacy` beside it are i15-web's own and stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from scheduler.db import insert_ignore
from scheduler.models import Delivery, DeliveryEvent, DeliveryState

CANCELLABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)


def enqueue(session: Session, *, now: datetime, **values: Any) -> int | None:
    """Insert one delivery unless its `dedup_key` exists; the new id, or None if it did."""
    row = {"state": DeliveryState.PENDING.value, "attempts": 0, "created_at": now,
           "updated_at": now, **values}
    stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name).values(**row)
    new_id = session.execute(stmt.returning(Delivery.__table__.c.id)).scalar()
    return None if new_id is None else int(new_id)


def cancel_for_participant(session: Session, participant_id: int, *, now: datetime,
                           reason: str) -> int:
    """Cancel a participant's pending/retrying deliveries (participant index); how many."""
    done = session.execute(
        update(Delivery)
        .where(Delivery.participant_id == participant_id, Delivery.state.in_(CANCELLABLE))
        .values(state=DeliveryState.CANCELLED.value, updated_at=now, lease_owner=None,
                lease_expires_at=None)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    if done:
        session.execute(insert(DeliveryEvent), [
            {"delivery_id": did, "type": "cancelled", "at": now, "detail": reason}
            for did in done])
    return len(done)


__all__ = ["cancel_for_participant", "enqueue"]
