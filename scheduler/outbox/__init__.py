"""The outbox: the only code that changes a delivery's state.

Temporary, on branch i14-cli only: the operator's two transitions, with the names and
signatures of branch i14-outbox's `scheduler/outbox/`, which replaces this file at merge.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.errors import InputError
from scheduler.models import Delivery, DeliveryEvent, DeliveryState

SessionOrFactory = Session | sessionmaker[Session]

RETRYABLE = (DeliveryState.FAILED.value, DeliveryState.UNKNOWN.value)
OPERATOR_CANCELLABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value, *RETRYABLE)


@contextmanager
def within(target: SessionOrFactory) -> Iterator[Session]:
    """The caller's session as it is, or a new one whose transaction commits at the end."""
    if isinstance(target, Session):
        yield target
        return
    with target() as session, session.begin():
        yield session


def _operator(target: SessionOrFactory, delivery_id: int, now: datetime,
              allowed: tuple[str, ...], to: str, event: str) -> tuple[str, str]:
    """An operator's transition of one delivery; (state before, state after)."""
    with within(target) as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            raise InputError([f"deliveries: no delivery with id {delivery_id}"])
        before = d.state
        if before not in allowed:
            raise InputError([f"deliveries: delivery {delivery_id} is '{before}'; only "
                              f"{' or '.join(allowed)} ones can be {event}"])
        again = to == DeliveryState.PENDING.value
        s.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            state=to, due_at=now if again else d.due_at, lease_owner=None,
            lease_expires_at=None, updated_at=now, attempts=0 if again else d.attempts))
        s.add(DeliveryEvent(delivery_id=delivery_id, type=event, at=now, detail="operator"))
    return before, to


def operator_retry(target: SessionOrFactory, delivery_id: int, now: datetime
                   ) -> tuple[str, str]:
    """`failed|unknown` → `pending`, due now, attempts reset; InputError otherwise."""
    return _operator(target, delivery_id, now, RETRYABLE, DeliveryState.PENDING.value,
                     "retried")


def operator_cancel(target: SessionOrFactory, delivery_id: int, now: datetime
                    ) -> tuple[str, str]:
    """`pending|retrying|failed|unknown` → `cancelled`; InputError otherwise."""
    return _operator(target, delivery_id, now, OPERATOR_CANCELLABLE,
                     DeliveryState.CANCELLED.value, "cancelled")
