"""An outbox for the claim's tests, on SQLite or PostgreSQL: due rows of both claimable
states interleaved by due time (ties broken by id, not by insertion), and rows a claim
must never take."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, insert
from sqlalchemy.engine import Connection

from scheduler.models import Delivery

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
OTHER = "elsewhere:1:abcd"


def row(i: int, minutes_ago: int, **values: Any) -> dict[str, Any]:
    """Delivery `i`, a lone course email (its own bundle's lead), due `minutes_ago`."""
    return {"id": i, "dedup_key": f"k{i}", "campaign": "c", "kind": "course_email",
            "channel": "email", "template": "t", "participant_id": i, "state": "pending",
            "due_at": NOW - timedelta(minutes=minutes_ago), "attempts": 0,
            "created_at": NOW, "updated_at": NOW, "bundle": i, "lease_owner": None,
            "lease_expires_at": None, **values}


def fill(engine: Engine, claimable: int = 30) -> list[int]:
    """`claimable` due rows (every third `retrying`; ids not in due order, due times
    shared by pairs) and rows never to be claimed; the claimable ids, oldest due first."""
    rows = []
    for n in range(claimable):
        i = 1000 - 7 * n  # ids fall as due times fall: id order is not due order
        state = "retrying" if n % 3 == 0 else "pending"
        rows.append(row(i, minutes_ago=n // 2 * 3, state=state))
    order = sorted(rows, key=lambda r: (r["due_at"], r["id"]))
    never = [
        row(2000, 500, state="sent"),
        row(2001, 500, state="sending"),
        row(2002, -10),  # not yet due
        row(2003, 500, channel="other"),
        row(2004, 500, lease_owner=OTHER, lease_expires_at=NOW + timedelta(minutes=3)),
        row(2005, 500, bundle=order[0]["id"]),  # a member: claimed with its lead
        row(2006, 500, bundle=None),  # not yet put in a bundle by cadence
    ]
    with engine.begin() as c:
        c.execute(insert(Delivery), rows + never)
    return [r["id"] for r in order]


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements run on `engine` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Connection, _cur: object, statement: str, parameters: Any,
               _ctx: object, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(engine: Engine, prefix: str, statement: str, parameters: Any,
            rows: Callable[[Any], Any] = list) -> Any:
    """`prefix` (EXPLAIN …) of `statement`, run on a raw connection; its rows."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(prefix + statement, parameters)
        return rows(cur.fetchall())
    finally:
        raw.rollback()
        raw.close()
