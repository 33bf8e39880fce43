"""The send path's transitions: begin send, the outcome (sent, retry, fail, unknown,
bounced, auth), skip (cancelled or suppressed at build time), hold.

A streaming worker whose channel frees several sessions at once begins their next sends
as a group (`begin_sends`): one commit, in which each row's `sending` statement still runs
with every check of its own (a row refused there is not sent, and the others still go), and
which carries the worker's queued outcomes. The group's sends all start right after it.

These run thousands of times a drain, so they are prepared statements run straight on a
worker's own DBAPI connection (`writer`), and an outcome may wait in the worker's `Pending`
queue to ride along with the next `sending` commit. What must hold before anything else is
sent (a refused credential's flag, a bounced address's suppression) is written at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table

from scheduler.db import insert_ignore
from scheduler.models import Suppression
from scheduler.outbox import statements as sql
from scheduler.outbox.leases import Leases
from scheduler.outbox.prepared import PreparedCache
from scheduler.outbox.retry import Outcome
from scheduler.outbox.writer import OutboxWriter, Pending, Write, Writes

SUPPRESSIONS = cast(Table, Suppression.__table__)


@dataclass(frozen=True, slots=True)
class Start:
    """A delivery whose send is to begin, with what its `sending` statement checks again:
    for an email, the participant (still active), the address (not suppressed) and the
    course (still open). A `bundled` one is the lead of a cadence bundle."""

    delivery_id: int
    participant_id: int | None
    email: str
    course_id: str | None
    bundled: bool = False


class SendPath:
    """One dispatcher's writes of the send path, under one owner's `leases`."""

    def __init__(self, engine: Engine, leases: Leases) -> None:
        self.engine = engine
        self.leases = leases
        self.prepared = PreparedCache(engine.dialect)
        # SQLite has one writer at a time, and a thread that finds the lock taken sleeps
        # in the busy handler (milliseconds); this process's workers queue here instead.
        self.write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext())

    @contextmanager
    def worker(self) -> Iterator[Pending]:
        """A worker's queue of outcomes, committed at the end (what is queued then)."""
        writer = OutboxWriter(self.engine, self.prepared, self.write_lock)
        pending = Pending(writer, on_commit=self.leases.landed)
        try:
            yield pending
        finally:
            try:
                if pending:
                    pending.flush()
            finally:
                # Whatever was not committed now never will be by this worker: the reaper
                # may settle those rows once their leases expire.
                self.leases.landed(pending.ids)
                writer.close()

    @contextmanager
    def _txn(self, pending: Pending | None) -> Iterator[Connection]:
        """A transaction, begun after the outcomes still `pending` are committed."""
        if pending:
            pending.flush()
        with self.write_lock, self.engine.begin() as c:
            yield c

    def _run(self, c: Connection, writes: Writes) -> int:
        """Run prepared `writes` inside `c`'s transaction; the last row count."""
        cursor = c.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            return self.prepared.execute_all(cursor, writes)
        finally:
            cursor.close()

    def _write(self, writes: Writes, pending: Pending | None = None) -> int:
        """Run `writes` in one commit (with the outcomes still `pending` first)."""
        if pending is not None:
            return pending.flush(writes)
        with self._txn(None) as c:
            return self._run(c, writes)

    # -- transitions -------------------------------------------------------------

    def begin_send(self, delivery_id: int, now: datetime, *, participant_id: int | None,
                   email: str, course_id: str | None, pending: Pending | None = None,
                   bundled: bool = False) -> bool:
        """`pending|retrying` → `sending` in its own commit; False when it must not go out.

        The statement checks again what was read earlier: the lease, the state, and for an
        email that the participant is still active, the address not suppressed and the
        course still open. A delivery refused here stays reserved. A `bundled` one (the
        lead of a cadence bundle) takes its bundle's other reserved rows along, in the same
        commit.
        """
        is_email = participant_id is not None
        with_course = is_email and course_id is not None
        params = self._begin_params(delivery_id, now, participant_id, email, course_id)
        self.leases.taking_off(delivery_id)
        try:
            if bundled:
                began = self._begin_bundle(is_email, with_course, params, pending)
            else:
                began = bool(self._write([(sql.BEGIN_SEND[(is_email, with_course)], params)],
                                         pending))
        except BaseException:
            self.leases.landed([delivery_id])
            raise
        if not began:
            self.leases.landed([delivery_id])
        return began

    def begin_sends(self, starts: Sequence[Start], now: datetime,
                    pending: Pending) -> list[bool]:
        """Mark a group of deliveries `sending` in one commit (with the outcomes queued in
        `pending` first); whether each may go out.

        Each row's statement checks what `begin_send` checks, on its own: a row refused
        stays reserved and the others still begin. A bundle's lead takes its bundle's
        reserved rows along, only when it begins itself. The caller starts every send that
        began right after this returns, before waiting for any server.
        """
        gated: list[tuple[Write, Writes]] = []
        for s in starts:
            params = self._begin_params(s.delivery_id, now, s.participant_id, s.email,
                                        s.course_id)
            is_email = s.participant_id is not None
            gate = (sql.BEGIN_SEND[(is_email, is_email and s.course_id is not None)], params)
            gated.append((gate, [(sql.BEGIN_MEMBERS, params)] if s.bundled else []))
            self.leases.taking_off(s.delivery_id)
        try:
            began = pending.flush_gated(gated)
        except BaseException:
            self.leases.landed([s.delivery_id for s in starts])
            raise
        self.leases.landed([s.delivery_id for s, ok in zip(starts, began, strict=True)
                            if not ok])
        return began

    def _begin_params(self, delivery_id: int, now: datetime, participant_id: int | None,
                      email: str, course_id: str | None) -> dict[str, object]:
        return {"p_id": delivery_id, "p_owner": self.leases.owner, "p_now": now,
                "p_expires": now + self.leases.lease, "p_participant": participant_id,
                "p_email": email, "p_course": course_id}

    def _begin_bundle(self, is_email: bool, with_course: bool, params: dict[str, object],
                      pending: Pending | None) -> bool:
        """The lead → `sending`, and only then its bundle's rows, in one commit."""
        with self._txn(pending) as c:
            if not self._run(c, [(sql.BEGIN_SEND[(is_email, with_course)], params)]):
                return False
            self._run(c, [(sql.BEGIN_MEMBERS, params)])
        return True

    @staticmethod
    def _record(delivery_id: int, now: datetime, state: str, event: str, error: str | None,
                **changes: object) -> Writes:
        """The writes that set an outcome, free the lease and add the event."""
        params = {"p_id": delivery_id, "p_state": state, "p_now": now, "p_error": error,
                  "p_sent_at": None, "p_provider_id": None, "p_due_at": None,
                  "p_attempts": None, **{f"p_{k}": v for k, v in changes.items()}}
        event_row = {"p_delivery_id": delivery_id, "p_type": event, "p_at": now,
                     "p_detail": error or ""}
        return [(sql.FINISH, params), (sql.EVENT, event_row)]

    @staticmethod
    def _members(writes: Writes) -> Writes:
        """`writes` (a lead's outcome) extended to its bundle's rows being sent."""
        (_, params), (_, event_row) = writes[0], writes[1]
        return [*writes, (sql.FINISH_MEMBERS, params),
                (sql.MEMBER_EVENTS, {**event_row, "p_id": params["p_id"]})]

    def record(self, delivery_id: int, outcome: Outcome, now: datetime, *,
               pending: Pending | None = None, to: str | None = None,
               also: Callable[[Connection], None] | None = None,
               bundled: bool = False) -> None:
        """Record a send's (or a failed build's) outcome.

        Queued in `pending` for the worker's next commit, unless it is urgent: then written
        at once, with `also` (e.g. the channel's flag) in the same transaction and, for a
        bounce, the address `to` on the suppression list.
        """
        writes = self._record(delivery_id, now, outcome.state, outcome.event, outcome.error,
                              **outcome.changes)
        if bundled:
            writes = self._members(writes)
        if pending is not None and not outcome.urgent:
            pending.add(delivery_id, writes)
            return
        try:
            with self._txn(pending) as c:
                if also is not None:
                    also(c)
                if outcome.event == "bounced" and to:
                    c.execute(insert_ignore(SUPPRESSIONS, c.dialect.name).values(
                        email=to, reason="bounce", detail=outcome.error or "",
                        created_at=now))
                self._run(c, writes)
        finally:
            self.leases.landed([delivery_id])

    def skip(self, delivery_id: int, state: str, reason: str, now: datetime,
             pending: Pending | None = None, bundled: bool = False) -> None:
        """Settle a reserved delivery that will not be sent (cancelled, suppressed); a
        `bundled` lead settles its bundle's reserved rows alike."""
        writes = self._record(delivery_id, now, state, state, reason)
        if bundled:
            common = {"p_id": delivery_id, "p_owner": self.leases.owner, "p_now": now}
            writes = [*writes,
                      (sql.SKIP_MEMBERS, {**common, "p_state": state, "p_error": reason}),
                      (sql.MEMBER_EVENTS, {**common, "p_type": state, "p_at": now,
                                           "p_detail": reason})]
        self._write(writes, pending)

    def hold(self, delivery_id: int, until: datetime, now: datetime,
             pending: Pending | None = None, bundled: bool = False) -> None:
        """Put a reserved delivery off until `until` (a send-time hold); lease freed. A
        `bundled` lead's reserved rows wait with it."""
        params = {"p_id": delivery_id, "p_due_at": until, "p_now": now}
        writes: Writes = [(sql.HOLD, params)]
        if bundled:
            writes.insert(0, (sql.HOLD_MEMBERS, {**params, "p_owner": self.leases.owner}))
        self._write(writes, pending)
