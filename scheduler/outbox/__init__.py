"""The outbox: the only code that inserts `deliveries` rows or changes their state.

Rooms:
- `transitions`: enqueue, cancel for a course / a participant / a post, suppress for an
  address, the operator's retry and cancel; each in the caller's session or a short
  transaction of its own.
- `planned`: planning's bulk INSERT … SELECT.
- `leases`: claim (reserve), release, what is in flight, the reaper (`Leases.recover`).
- `claims`: the claim's statements (each state's oldest due rows, merged).
- `sending`: the send path: begin send, record an outcome (sent, retry, fail, unknown,
  bounced, auth), skip (cancelled, suppressed), hold.
- `cadence`: a person's due course emails put in one bundle, held by a cap, or cancelled.
- `retry`: the retry decision, a pure function of (result, attempts, policy, now, rng).
- `statements`, `prepared`, `writer`: the send path's prepared statements and fast writer.

Every state change appends its `delivery_events` row. `tests/outbox/test_writers_stay_home.py`
fails when a module elsewhere writes `deliveries`.
"""

from __future__ import annotations

from scheduler.outbox.cadence import CadenceResult, apply_cadence
from scheduler.outbox.leases import Leases, new_owner, owner_is_dead
from scheduler.outbox.planned import Unguarded, insert_planned
from scheduler.outbox.retry import Outcome, RetryTiming, decide
from scheduler.outbox.sending import SendPath, Start
from scheduler.outbox.statements import CLAIMABLE
from scheduler.outbox.transitions import (
    CANCELLABLE,
    cancel_for_course,
    cancel_for_participant,
    cancel_for_post,
    enqueue,
    operator_cancel,
    operator_retry,
    suppress_for_address,
)

__all__ = [
    "CANCELLABLE",
    "CLAIMABLE",
    "CadenceResult",
    "Leases",
    "Outcome",
    "RetryTiming",
    "SendPath",
    "Start",
    "Unguarded",
    "apply_cadence",
    "cancel_for_course",
    "cancel_for_participant",
    "cancel_for_post",
    "decide",
    "enqueue",
    "insert_planned",
    "new_owner",
    "operator_cancel",
    "operator_retry",
    "owner_is_dead",
    "suppress_for_address",
]
