"""The outbox's transitions outside the send path: enqueue, cancellations, the operator's.

Each takes the caller's session (and joins its transaction: an import's all-or-nothing
one, an unsubscribe that must cancel in the same commit) or a session factory (and runs
in a short transaction of its own, committed on return). Each state change appends its
`delivery_events` row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from scheduler.db import insert_ignore
from scheduler.errors import InputError
from scheduler.models import Delivery, DeliveryEvent, DeliveryState, Participant
from scheduler.outbox.session import SessionOrFactory, within

T = TypeVar("T")
CHUNK = 500  # ids per IN (...) list: far below every database's parameter limit
CANCELLABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)
"""Not yet sent nor being sent (a reserved row is one of these, with a lease)."""
RETRYABLE = (DeliveryState.FAILED.value, DeliveryState.UNKNOWN.value)
OPERATOR_CANCELLABLE = (*CANCELLABLE, *RETRYABLE)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def enqueue(target: SessionOrFactory, *, now: datetime, **values: Any) -> int | None:
    """Insert one delivery unless its `dedup_key` exists; the new id, or None if it did.

    `values` are `Delivery` columns (dedup_key, campaign, kind, channel, template, due_at,
    participant_id, course_id, post_id, period_start, period_end, …); `state` defaults to
    pending, `attempts` to 0, created_at and updated_at to `now`.
    """
    row = {"state": DeliveryState.PENDING.value, "attempts": 0, "created_at": now,
           "updated_at": now, **values}
    with within(target) as session:
        stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name).values(**row)
        new_id = session.execute(stmt.returning(Delivery.__table__.c.id)).scalar()
    return None if new_id is None else int(new_id)


def _cancel(session: Session, where: Iterable[ColumnElement[bool]], *, now: datetime,
            detail: str, last_error: str | None = None,
            states: Sequence[str] = CANCELLABLE,
            to: DeliveryState = DeliveryState.CANCELLED) -> list[tuple[int, Any]]:
    """Settle the rows matching `where` in `states` as `to` (freeing their leases), with
    an event each (its type: `to`); the (id, course_id) of each row settled."""
    values: dict[str, Any] = {"state": to.value, "updated_at": now,
                              "lease_owner": None, "lease_expires_at": None}
    if last_error is not None:
        values["last_error"] = last_error
    done = session.execute(
        update(Delivery).where(*where, Delivery.state.in_(states)).values(**values)
        .returning(Delivery.id, Delivery.course_id)
        .execution_options(synchronize_session=False)
    ).all()
    if done:
        session.execute(insert(DeliveryEvent), [
            {"delivery_id": did, "type": to.value, "at": now,
             "detail": detail.replace("{course_id}", str(course_id))} for did, course_id in done])
    return [(did, course_id) for did, course_id in done]


def cancel_for_course(target: SessionOrFactory, course_ids: Sequence[str], *, now: datetime,
                      reason: str = "course {course_id} cancelled") -> int:
    """Cancel the not-yet-sent deliveries (pending, retrying) of these courses; how many.

    `reason` is each event's detail (`{course_id}` is replaced by the row's course).
    """
    total = 0
    with within(target) as session:
        for chunk in chunks(list(course_ids)):
            total += len(_cancel(session, [Delivery.course_id.in_(chunk)], now=now,
                                 detail=reason))
    return total


def cancel_for_participant(target: SessionOrFactory, participant_id: int, *,
                           now: datetime, reason: str) -> int:
    """Cancel a participant's not-yet-sent deliveries (pending, retrying, reserved but not
    `sending`), through the participant index, in the caller's transaction; how many."""
    with within(target) as session:
        return len(_cancel(session, [Delivery.participant_id == participant_id], now=now,
                           detail=reason))


def cancel_for_post(target: SessionOrFactory, post_id: int, *, now: datetime, reason: str) -> int:
    """Cancel a submitted post's not-yet-sent deliveries (`reason` kept as last error)."""
    with within(target) as session:
        return len(_cancel(session, [Delivery.post_id == post_id], now=now, detail=reason,
                           last_error=reason))


def suppress_for_address(target: SessionOrFactory, email: str, *, now: datetime,
                         reason: str) -> int:
    """`suppressed`: the not-yet-sent deliveries (pending, retrying, reserved but not
    `sending`) to the participant(s) with this address, in the caller's transaction; how
    many. (The address's `suppressions` row is the caller's: a bounce, a complaint.)"""
    people = select(Participant.id).where(Participant.email == email)
    with within(target) as session:
        return len(_cancel(session, [Delivery.participant_id.in_(people)], now=now,
                           detail=reason, to=DeliveryState.SUPPRESSED))


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


