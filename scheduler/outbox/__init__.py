"""TEMPORARY (branch i20-report): the outbox API that branch i14-outbox builds.

Only `cancel_for_participant` is here, with the agreed name and signature, for the bounce
intake; the merge replaces this file with the real package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler import events
from scheduler.models import Delivery, DeliveryState

_CANCELLABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)


def cancel_for_participant(session: Session, participant_id: int, *, now: datetime,
                           reason: str) -> int:
    """Pending/retrying deliveries of the participant → cancelled (+ an event each)."""
    ids = list(session.scalars(select(Delivery.id).where(
        Delivery.participant_id == participant_id, Delivery.state.in_(_CANCELLABLE))))
    if not ids:
        return 0
    session.execute(update(Delivery).where(Delivery.id.in_(ids),
                                           Delivery.state.in_(_CANCELLABLE))
                    .values(state=DeliveryState.CANCELLED.value, updated_at=now,
                            lease_owner=None, lease_expires_at=None, last_error=reason)
                    .execution_options(synchronize_session=False))
    events.record_bulk(session, "cancelled", ids, at=now, detail=reason)
    return len(ids)
