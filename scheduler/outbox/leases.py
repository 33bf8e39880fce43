"""Leases: who holds a delivery while it is claimed or sent, and recovery when they die.

A claim reserves a batch (lease owner + expiry, state unchanged). Just before its send a
delivery becomes `sending` in its own commit; only such a row can turn `unknown` when its
lease expires with nobody left to record its outcome. A reserved row whose send never
began simply becomes claimable again when its lease runs out.

The reaper (`recover`) settles the leases of dead or expired owners, and this owner's own
expired `sending` rows whose send is no longer in flight (a database outage lost their
outcome): they become `unknown` without waiting for a restart.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.filter import Filter
from scheduler.id_lists import list_param
from scheduler.models import Delivery, DeliveryEvent, DeliveryState
from scheduler.outbox import claims
from scheduler.outbox.statements import CLAIMABLE

COURSE_EMAIL = claims.COURSE_EMAIL


def new_owner() -> str:
    """A lease owner id: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when `owner` is a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Leases:
    """One owner's leases on the outbox: claim, release, what is in flight, recovery."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime], *,
                 owner: str | None = None, lease: timedelta = timedelta(minutes=5),
                 write_lock: AbstractContextManager[object] | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.owner = owner or new_owner()
        self.lease = lease
        self._write_lock = write_lock if write_lock is not None else nullcontext()
        self._flying: set[int] = set()
        self._flying_lock = threading.Lock()

    def use_write_lock(self, lock: AbstractContextManager[object]) -> None:
        """Claim under `lock` (the send path's: SQLite's writers of one process queue)."""
        self._write_lock = lock

    # -- in flight: marked `sending`, outcome not yet committed --------------

    def taking_off(self, delivery_id: int) -> None:
        """`delivery_id` is about to be marked `sending` by this process."""
        with self._flying_lock:
            self._flying.add(delivery_id)

    def landed(self, ids: Iterable[int]) -> None:
        """The outcomes of `ids` are committed (or will never be: their worker ended)."""
        with self._flying_lock:
            self._flying.difference_update(ids)

    def in_flight(self) -> frozenset[int]:
        with self._flying_lock:
            return frozenset(self._flying)

    # -- claims ----------------------------------------------------------------

    def claim(self, channel: str, only: Filter, limit: int) -> list[int]:
        """Reserve up to `limit` due deliveries of `channel` (oldest due first, by due_at
        then id); their ids. A bundle's lead is claimed with the bundle's other due rows."""
        now = self.clock()
        expires = now + self.lease
        engine = self._engine()
        postgres = engine.dialect.name == "postgresql"
        shape = claims.Shape.of(only, engine.dialect.name)
        with self._write_lock, engine.begin() as c:
            ids = list(c.execute(claims.due_ids(shape),
                                 claims.parameters(only, channel, now, limit)).scalars())
            if ids:
                listed = list_param(ids, postgres)
                reserve = {"p_owner": self.owner, "p_expires": expires}
                c.execute(claims.reserve(postgres), {"p_ids": listed, **reserve})
                members = [m.id for m in c.execute(claims.bundle_rows(postgres),
                                                   {"p_ids": listed})
                           if claims.claimable_member(m.kind, m.state, m.due_at,
                                                      m.lease_expires_at, now)]
                if members:
                    c.execute(claims.reserve(postgres),
                              {"p_ids": list_param(members, postgres), **reserve})
        return ids

    def _engine(self) -> Engine:
        bind = self.sessions.kw.get("bind")
        assert isinstance(bind, Engine), "the session factory must be bound to an engine"
        return bind

    def release(self, ids: Iterable[int]) -> None:
        """Free these reserved rows of this owner whose send never began."""
        with self.sessions() as s, s.begin():
            s.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(list(ids)),
                    Delivery.lease_owner == self.owner,
                    Delivery.state.in_(CLAIMABLE),
                )
                .values(lease_owner=None, lease_expires_at=None)
            )

    def release_all(self, channel: str | None = None) -> None:
        """Free this owner's reserved rows (of one channel, or all) whose send never began."""
        q = update(Delivery).where(Delivery.lease_owner == self.owner,
                                   Delivery.state.in_(CLAIMABLE))
        if channel is not None:
            q = q.where(Delivery.channel == channel)
        with self.sessions() as s, s.begin():
            s.execute(q.values(lease_owner=None, lease_expires_at=None))

    # -- recovery (the reaper) ---------------------------------------------------

    def recover(self) -> Counter[str]:
        """Settle leases nobody will end: `sending` → `unknown`, reserved ones freed.

        Those of dead or expired owners, and this owner's own expired ones that are not in
        flight (their worker ended without recording an outcome). Counts by what was done.
        """
        now = self.clock()
        flying = self.in_flight()
        found: Counter[str] = Counter()
        with self.sessions() as s, s.begin():
            rows = s.execute(
                select(
                    Delivery.id, Delivery.state, Delivery.lease_owner, Delivery.lease_expires_at,
                    Delivery.bundle,
                ).where(Delivery.lease_owner.is_not(None))
            ).all()
            for did, state, owner, expires, bundle in rows:
                expired = expires is not None and expires < now
                if owner == self.owner:
                    # Our reserved rows are freed by their drain; a `sending` one only when
                    # its send (its bundle's lead's) is over and its outcome was lost.
                    if not (expired and state == DeliveryState.SENDING.value
                            and did not in flying and bundle not in flying):
                        continue
                elif not expired and not owner_is_dead(owner or ""):
                    continue
                if state == DeliveryState.SENDING.value:
                    done = s.execute(
                        update(Delivery)
                        .where(Delivery.id == did, Delivery.state == state,
                               Delivery.lease_owner == owner)
                        .values(
                            state=DeliveryState.UNKNOWN.value,
                            lease_owner=None,
                            lease_expires_at=None,
                            updated_at=now,
                            last_error="interrupted mid-send; not resent automatically",
                        )
                    )
                    if not done.rowcount:  # type: ignore[attr-defined]
                        continue  # its outcome landed meanwhile
                    s.add(
                        DeliveryEvent(
                            delivery_id=did,
                            type="unknown",
                            at=now,
                            detail="lease expired while sending",
                        )
                    )
                    found["unknown"] += 1
                else:
                    s.execute(
                        update(Delivery)
                        .where(Delivery.id == did)
                        .values(lease_owner=None, lease_expires_at=None)
                    )
                    found["released"] += 1
        return found
