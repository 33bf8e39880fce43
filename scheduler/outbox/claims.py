"""The statements of a claim, built once per filter shape and run with parameters.

The due rows come in (due_at, id) order, oldest first. A claimable row is `pending` or
`retrying`, and the index `ix_deliveries_due (state, due_at)` gives that order only
within one state: `state IN (…) ORDER BY due_at, id` made PostgreSQL read and sort every
due row for each batch (O(N) a claim, O(N²) a drain; 0.1 s a claim at 200,000 due). So
each state gets its own ordered `LIMIT` subquery, read in index order, and the two short
lists are merged: at most twice the batch is sorted, however deep the outbox.

On PostgreSQL each subquery locks its rows `FOR UPDATE SKIP LOCKED`: a concurrent
replica skips them and claims others, so no row is claimed twice. The rows locked but not
taken (the other state's surplus) are free again when the claim commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, bindparam, false, func, or_, select, union_all, update
from sqlalchemy.sql.dml import Update

from scheduler.filter import Filter
from scheduler.id_lists import in_list
from scheduler.outbox.statements import CLAIMABLE, DELIVERIES

COURSE_EMAIL = "course_email"
_d = DELIVERIES.c


@dataclass(frozen=True)
class Shape:
    """Which of a `Filter`'s limits a claim uses (its statement depends on nothing else)."""

    campaign: bool
    course: bool
    ids: bool
    postgres: bool

    @staticmethod
    def of(only: Filter, dialect: str) -> Shape:
        return Shape(only.campaign is not None, only.course is not None,
                     only.delivery_ids is not None, dialect == "postgresql")


def parameters(only: Filter, channel: str, now: datetime, limit: int) -> dict[str, object]:
    """The parameters of `due_ids(Shape.of(only, …))`."""
    values: dict[str, object] = {"p_channel": channel, "p_now": now, "p_limit": limit}
    if only.campaign is not None:
        values["p_campaign"] = only.campaign
    if only.course is not None:
        values["p_course"] = only.course
    if only.delivery_ids is not None:
        values["p_ids"] = sorted(only.delivery_ids)
    return values


def _due_in(state: str, shape: Shape) -> Select[int, datetime]:
    """The oldest due rows of `state` a claim may take, in (due_at, id) order."""
    now = bindparam("p_now", type_=_d.due_at.type)
    q = (select(_d.id, _d.due_at)
         .where(_d.state == state, _d.channel == bindparam("p_channel"), _d.due_at <= now,
                or_(_d.lease_expires_at.is_(None), _d.lease_expires_at < now),
                # A course email goes in a cadence bundle: its lead row is claimed. Said
                # with COALESCE so that PostgreSQL guesses half the rows pass: for
                # `bundle = id` it guesses 0.5% (a comparison of two columns), expects to
                # walk the whole index for a batch and sorts every due row instead.
                or_(_d.kind != COURSE_EMAIL, func.coalesce(_d.bundle == _d.id, false())))
         .order_by(_d.due_at, _d.id)
         .limit(bindparam("p_limit")))
    if shape.campaign:
        q = q.where(_d.campaign == bindparam("p_campaign"))
    if shape.course:
        q = q.where(_d.course_id == bindparam("p_course"))
    if shape.ids:
        q = q.where(_d.id.in_(bindparam("p_ids", expanding=True)))
    if shape.postgres:
        q = q.with_for_update(skip_locked=True)
    return q


@lru_cache(maxsize=32)
def due_ids(shape: Shape) -> Select[int]:
    """The ids a claim takes: each state's oldest due rows, merged, the oldest first (the
    only sort is of these two short lists)."""
    arms = [_due_in(state, shape).subquery(f"due_{state}") for state in CLAIMABLE]
    merged = union_all(*(select(arm.c.id, arm.c.due_at) for arm in arms)).subquery("due")
    return (select(merged.c.id).order_by(merged.c.due_at, merged.c.id)
            .limit(bindparam("p_limit")))


@lru_cache(maxsize=2)
def bundle_rows(postgres: bool) -> Select[int, str, str, datetime, datetime | None]:
    """The other rows of the bundles led by `p_ids`, to be checked and reserved too
    (found by the bundle's index: in the UPDATE's WHERE clause, SQLite without statistics
    walked every pending row by `ix_deliveries_due` instead)."""
    q = (select(_d.id, _d.kind, _d.state, _d.due_at, _d.lease_expires_at)
         .where(in_list(_d.bundle, "p_ids", postgres), ~in_list(_d.id, "p_ids", postgres)))
    return q.with_for_update() if postgres else q


@lru_cache(maxsize=2)
def reserve(postgres: bool) -> Update:
    """Reserve the rows `p_ids` for `p_owner` until `p_expires` (their state unchanged)."""
    return (update(DELIVERIES).where(in_list(_d.id, "p_ids", postgres))
            .values(lease_owner=bindparam("p_owner"),
                    lease_expires_at=bindparam("p_expires", type_=_d.lease_expires_at.type)))


def claimable_member(kind: str, state: str, due_at: datetime,
                     lease_expires_at: datetime | None, now: datetime) -> bool:
    """Whether a bundle's other row is to be reserved with its lead: a due course email,
    claimable and not reserved by another owner."""
    return (kind == COURSE_EMAIL and state in CLAIMABLE
            and due_at <= now and (lease_expires_at is None or lease_expires_at < now))
