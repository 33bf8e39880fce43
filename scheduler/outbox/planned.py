"""Planning's bulk insert: many deliveries from one INSERT … SELECT.

The planner builds the SELECT (one labelled column per outbox column); the outbox writes
it, with ON CONFLICT DO NOTHING unless the planner holds every row's course new under its
campaign's lock (see `scheduler.planner`), in which case a plain INSERT skips the
speculative insertion and a unique violation means another planner took no lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.db import insert_ignore
from scheduler.models import Delivery

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class Unguarded(Exception):
    """A plain INSERT met a dedup key that its campaign's lock should have kept out."""


def insert_planned(session: Session, select_stmt: Any, *, guarded: bool = True) -> int:
    """INSERT the rows of `select_stmt`, whose labels name the outbox columns; how many.

    With `guarded` (the default), ON CONFLICT DO NOTHING; without, a plain INSERT that
    raises `Unguarded` when a row's dedup key exists.
    """
    columns = [c.name for c in select_stmt.selected_columns]
    if guarded:
        stmt = insert_ignore(Delivery.__table__, session.get_bind().dialect.name)
        return int(session.execute(  # type: ignore[attr-defined]
            stmt.from_select(columns, select_stmt)).rowcount or 0)
    plain = insert(Delivery).from_select(columns, select_stmt)
    try:
        result = session.execute(plain.execution_options(preserve_rowcount=True))
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == UNIQUE_VIOLATION:
            raise Unguarded(str(exc.orig)) from exc
        raise
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
