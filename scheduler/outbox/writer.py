"""A send worker's own database connection for the outbox writes of the hot path.

Every message costs one commit (its `sending` mark, carrying the previous message's
outcome). Through SQLAlchemy's `Connection.begin()` and commit that is a few tenths of a
millisecond of CPU on top of what the database does, so a worker keeps one pooled DBAPI
connection and runs the prepared statements on it directly:

- SQLite: BEGIN IMMEDIATE, the statements, COMMIT.
- PostgreSQL: the statements and the COMMIT in psycopg's pipeline mode, sent in one
  round trip instead of one per statement, each as a statement the server prepared once
  on this connection (no parsing or planning per message; the parameters go apart, bound
  by the driver's C code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement

from scheduler.outbox.prepared import PreparedCache

Writes = list[tuple[ClauseElement, Mapping[str, Any]]]
"""Prepared statements to run, with their parameters."""


class OutboxWriter:
    """Runs lists of prepared writes, each list in one committed transaction.

    `lock` serialises writers of one process (SQLite has one writer at a time; a thread
    that found the database locked would sleep in the busy handler for milliseconds).
    On SQLite the transaction begins IMMEDIATE, as every transaction of the engine does.
    """

    def __init__(self, engine: Engine, prepared: PreparedCache,
                 lock: AbstractContextManager[object]) -> None:
        self._dbapi = engine.raw_connection()
        self._prepared = prepared
        self._lock = lock
        self._begin = "BEGIN IMMEDIATE" if engine.dialect.name == "sqlite" else None
        self._pipelined = engine.dialect.driver == "psycopg"
        # One cursor for every write (opening and closing one per commit cost a few µs).
        self._cursor: Any = None if self._pipelined else self._dbapi.cursor()

    def write(self, writes: Writes) -> int:
        """Run `writes` in one commit; the row count of the last statement (0 if none)."""
        if not writes:
            return 0
        if self._pipelined:
            return self._write_pipelined(writes)
        cursor = self._cursor
        with self._lock:
            try:
                if self._begin is not None:
                    cursor.execute(self._begin)
                count = self._prepared.execute_all(cursor, writes)
                if self._begin is not None:
                    # The driver's commit() compiles "COMMIT" anew each time; the cursor
                    # runs its cached statement.
                    cursor.execute("COMMIT")
                else:
                    self._dbapi.commit()
            except BaseException:
                self._dbapi.rollback()
                raise
        return count

    def _write_pipelined(self, writes: Writes) -> int:
        """PostgreSQL: every statement and the COMMIT in one pipeline (one round trip)."""
        conn: Any = self._dbapi.dbapi_connection
        with self._lock:
            try:
                with conn.pipeline():
                    cursor = conn.cursor()
                    for statement, values in writes:
                        prepared = self._prepared.get(statement)
                        cursor.execute(prepared.sql, prepared.parameters(values),
                                       prepare=True)
                    conn.commit()
                return int(cursor.rowcount)
            except BaseException:
                self._dbapi.rollback()
                raise

    def close(self) -> None:
        """Give the connection back to the engine's pool."""
        if self._cursor is not None:
            self._cursor.close()
        self._dbapi.close()


class Pending(Writes):
    """Outcomes queued for a worker's next commit, and the writer that will commit them.

    `ids` are the deliveries whose outcomes are queued; `on_commit` is told them once
    they are committed.
    """

    def __init__(self, writer: OutboxWriter,
                 on_commit: Callable[[list[int]], None] | None = None) -> None:
        super().__init__()
        self.writer = writer
        self.ids: list[int] = []
        self._on_commit = on_commit

    def add(self, delivery_id: int, writes: Writes) -> None:
        """Queue the outcome `writes` of `delivery_id`."""
        self.extend(writes)
        self.ids.append(delivery_id)

    def flush(self, writes: Writes | None = None) -> int:
        """Commit the queued outcomes, then `writes`, in one transaction; the last count."""
        count = self.writer.write([*self, *(writes or ())])
        self.clear()
        landed, self.ids = self.ids, []
        if self._on_commit is not None and landed:
            self._on_commit(landed)
        return count
