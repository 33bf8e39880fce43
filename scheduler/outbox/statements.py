"""The outbox's per-delivery statements, built once and run with parameters.

Building a SQLAlchemy statement costs more than running it on SQLite; a send of thousands of
emails marks each one `sending`, then records its outcome and an event, so those statements
are made here once. Parameter names start with `p_` (a SET clause may not reuse a column's).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, or_, update
from sqlalchemy.sql.dml import Insert, Update

from scheduler.events import EVENT_FROM_DELIVERY, _event_from_delivery
from scheduler.models import (
    Course,
    Delivery,
    DeliveryEvent,
    DeliveryState,
    Participant,
    ParticipantStatus,
    Suppression,
)

CLAIMABLE = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)
DELIVERIES = cast(Table, Delivery.__table__)
EVENTS = cast(Table, DeliveryEvent.__table__)
_d = DELIVERIES.c


def _p(name: str, like: str) -> object:
    """A parameter typed like column `like` of deliveries (so UTC datetimes convert)."""
    return bindparam(name, type_=_d[like].type)


def begin_send(*, email: bool, course: bool) -> Update:
    """`pending|retrying` → `sending`, only while this owner holds the lease.

    With `email`, only while the participant `p_participant` is active and `p_email` is not
    suppressed; with `course`, only while the course `p_course` is open. Parameters:
    p_id, p_owner, p_now, p_expires (+ p_participant, p_email, p_course).
    """
    q = update(DELIVERIES).where(_d.id == _p("p_id", "id"),
                                 _d.lease_owner == _p("p_owner", "lease_owner"),
                                 # Not IN (…): a statement run prepared has no expanding
                                 # parameters.
                                 or_(*(_d.state == state for state in CLAIMABLE)))
    if email:
        q = q.where(
            exists().where(Participant.id == bindparam("p_participant"),
                           Participant.status == ParticipantStatus.ACTIVE.value),
            ~exists().where(Suppression.email == bindparam("p_email")),
        )
    if course:
        q = q.where(exists().where(Course.id == bindparam("p_course"), Course.status == "open"))
    now = _p("p_now", "updated_at")
    return q.values(
        state=DeliveryState.SENDING.value,
        send_started_at=now,
        attempts=_d.attempts + 1,
        lease_expires_at=_p("p_expires", "lease_expires_at"),
        updated_at=now,
    )


BEGIN_SEND = {(email, course): begin_send(email=email, course=course)
              for email in (False, True) for course in (False, True)}

def _outcome() -> dict[str, Any]:
    """The columns an outcome sets, and frees the lease of (FINISH's parameters)."""
    return {
        "state": _p("p_state", "state"),
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": _p("p_now", "updated_at"),
        "last_error": _p("p_error", "last_error"),
        # None keeps the column as it is.
        "sent_at": func.coalesce(_p("p_sent_at", "sent_at"), _d.sent_at),
        "provider_id": func.coalesce(_p("p_provider_id", "provider_id"), _d.provider_id),
        "due_at": func.coalesce(_p("p_due_at", "due_at"), _d.due_at),
    }


FINISH: Update = update(DELIVERIES).where(_d.id == _p("p_id", "id")).values(
    **_outcome(), attempts=func.coalesce(_p("p_attempts", "attempts"), _d.attempts))
"""Record an outcome and free the lease. Parameters: p_id, p_state, p_now, p_error,
p_sent_at, p_provider_id, p_due_at, p_attempts (the last four: None to leave unchanged)."""

HOLD: Update = update(DELIVERIES).where(_d.id == _p("p_id", "id")).values(
    due_at=_p("p_due_at", "due_at"),
    lease_owner=None,
    lease_expires_at=None,
    updated_at=_p("p_now", "updated_at"),
)
"""Put a delivery off until `p_due_at` (a send-time hold) and free its lease; its state is
unchanged. Parameters: p_id, p_due_at, p_now."""

EVENT: Insert = EVENT_FROM_DELIVERY
"""One delivery event, tagged for the report from the delivery's rows (scheduler.events).
Parameters: p_delivery_id, p_type, p_at, p_detail."""


# -- a bundle's other rows (cadence): they follow their lead row ---------------------------

_members = (_d.bundle == _p("p_id", "id"), _d.id != _p("p_id", "id"))

BEGIN_MEMBERS: Update = update(DELIVERIES).where(
    *_members,
    _d.lease_owner == _p("p_owner", "lease_owner"),
    or_(*(_d.state == state for state in CLAIMABLE)),
).values(
    state=DeliveryState.SENDING.value,
    send_started_at=_p("p_now", "updated_at"),
    attempts=_d.attempts + 1,
    lease_expires_at=_p("p_expires", "lease_expires_at"),
    updated_at=_p("p_now", "updated_at"),
)
"""The bundle of lead `p_id`: its other reserved rows → `sending`, in the lead's commit.
Parameters: p_id, p_owner, p_now, p_expires."""


FINISH_MEMBERS: Update = update(DELIVERIES).where(
    *_members, _d.state == DeliveryState.SENDING.value).values(**_outcome())
"""The lead's outcome on the bundle's other rows being sent (FINISH's parameters)."""

SKIP_MEMBERS: Update = update(DELIVERIES).where(
    *_members, _d.lease_owner == _p("p_owner", "lease_owner"),
    or_(*(_d.state == state for state in CLAIMABLE))).values(
    state=_p("p_state", "state"),
    lease_owner=None,
    lease_expires_at=None,
    updated_at=_p("p_now", "updated_at"),
    last_error=_p("p_error", "last_error"),
)
"""The lead was settled without a send (cancelled, suppressed): its reserved members too.
Parameters: p_id, p_owner, p_state, p_now, p_error."""

HOLD_MEMBERS: Update = update(DELIVERIES).where(
    *_members, _d.lease_owner == _p("p_owner", "lease_owner"),
    or_(*(_d.state == state for state in CLAIMABLE))).values(
    due_at=_p("p_due_at", "due_at"),
    lease_owner=None,
    lease_expires_at=None,
    updated_at=_p("p_now", "updated_at"),
)
"""The lead is put off: its reserved members with it. Parameters: p_id, p_owner,
p_due_at, p_now."""


MEMBER_EVENTS: Insert = _event_from_delivery(
    _d.bundle == _p("p_id", "id"), _d.id != _p("p_id", "id"),
    _d.updated_at == bindparam("p_at", type_=EVENTS.c.at.type))
"""An event on each other row of lead `p_id`'s bundle just settled (run after
FINISH_MEMBERS or SKIP_MEMBERS, with the lead's event given first: the bundle is one
email). Parameters: p_id, p_type, p_at, p_detail."""
