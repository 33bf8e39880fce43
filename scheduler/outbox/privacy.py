"""Outbox transitions a person's own choices need: cancel some of their deliveries, and
the erasure's rewrite of what quotes their address."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from scheduler.models import Delivery, DeliveryEvent, DeliveryState

CANCELLABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)


def cancellable_for_participant(session: Session, participant_id: int
                                ) -> list[tuple[int, str, str | None]]:
    """(id, kind, course_id) of a participant's not-yet-sent deliveries (participant index)."""
    found = session.execute(
        select(Delivery.id, Delivery.kind, Delivery.course_id)
        .where(Delivery.participant_id == participant_id, Delivery.state.in_(CANCELLABLE)))
    return [(int(i), str(k), c) for i, k, c in found]


def cancel_ids(session: Session, ids: Sequence[int], *, now: datetime, reason: str) -> int:
    """Cancel these deliveries where still pending/retrying, with a `cancelled` event each."""
    if not ids:
        return 0
    done = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(ids)), Delivery.state.in_(CANCELLABLE))
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


def rewrite_address(session: Session, participant_id: int, address: str,
                    pseudonym: str) -> int:
    """Erasure: replace `address` by `pseudonym` in the last errors of the person's
    deliveries and in their events' details (the one rewrite of history); rows changed."""
    ids = select(Delivery.id).where(Delivery.participant_id == participant_id)
    changed = rows(session.execute(
        update(Delivery)
        .where(Delivery.participant_id == participant_id,
               func.lower(Delivery.last_error).contains(address.lower()))
        .values(last_error=func.replace(func.lower(Delivery.last_error), address.lower(),
                                        pseudonym))
        .execution_options(synchronize_session=False))).rowcount
    changed += rows(session.execute(
        update(DeliveryEvent)
        .where(DeliveryEvent.delivery_id.in_(ids),
               func.lower(DeliveryEvent.detail).contains(address.lower()))
        .values(detail=func.replace(func.lower(DeliveryEvent.detail), address.lower(),
                                    pseudonym))
        .execution_options(synchronize_session=False))).rowcount
    return int(changed)


def rows(result: object) -> CursorResult[Any]:
    """An UPDATE's result, typed as what it is (it carries `rowcount`)."""
    return cast(CursorResult[Any], result)
