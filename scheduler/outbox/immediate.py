"""A transactional email sent at once by the process that queued it (`herald serve`).

A confirmation or a "your preferences link" email is queued as a delivery already
`sending`, under a lease of the sending process, in the same commit as the change that
asked for it: no dispatcher can claim it, and a crash mid-send leaves it to the lease
recovery (`unknown`), as for any other send. A refusal for now (a 4xx) is tried again by
the same process, under the same lease (`attempt_again`); the outcome is recorded by `finish`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import insert, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from scheduler.models import Delivery, DeliveryEvent, DeliveryState

LEASE = timedelta(minutes=5)


def sending_values(owner: str, now: datetime) -> dict[str, object]:
    """The columns that make a new delivery `sending` under `owner`'s lease from the start
    (given to `outbox.enqueue` with the delivery's own values)."""
    return {"state": DeliveryState.SENDING.value, "attempts": 1, "send_started_at": now,
            "lease_owner": owner, "lease_expires_at": now + LEASE}


def finish(session: Session, delivery_id: int, owner: str, *, now: datetime, sent: bool,
           error: str | None = None, provider_id: str | None = None) -> bool:
    """`sending` → `sent` or `failed` (the person can ask again: a new sign-up queues a
    new confirmation), with its event, while `owner` still holds the lease; False when it
    no longer does."""
    state = DeliveryState.SENT.value if sent else DeliveryState.FAILED.value
    done = rows(session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_owner == owner,
               Delivery.state == DeliveryState.SENDING.value)
        .values(state=state, lease_owner=None, lease_expires_at=None, updated_at=now,
                sent_at=now if sent else None, last_error=error, provider_id=provider_id)
        .execution_options(synchronize_session=False)
    )).rowcount
    if done:
        session.execute(insert(DeliveryEvent).values(
            delivery_id=delivery_id, type=state, at=now, detail=error or ""))
    return bool(done)


def attempt_again(session: Session, delivery_id: int, owner: str, *, now: datetime,
                  error: str) -> bool:
    """Before another attempt at a `sending` email the server refused for now: count it,
    keep why the last one failed, and renew `owner`'s lease; False when `owner` no longer
    holds it (the row was settled elsewhere: it must not be sent)."""
    return bool(rows(session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_owner == owner,
               Delivery.state == DeliveryState.SENDING.value)
        .values(attempts=Delivery.attempts + 1, last_error=error, updated_at=now,
                lease_expires_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )).rowcount)


def rows(result: object) -> CursorResult[Any]:
    """An UPDATE's result, typed as what it is (it carries `rowcount`)."""
    return cast(CursorResult[Any], result)
