"""A send worker's own database connection for the outbox writes of the hot path.

Every commit of a worker marks its next message(s) `sending` and carries the outcomes
queued since its last: one commit a message, or one for a group of messages that start
together (`write_gated`). Through SQLAlchemy's `Connection.begin()` and commit that is a
few tenths of a millisecond of CPU on top of what the database does, so a worker keeps one
pooled DBAPI connection and runs the prepared statements on it directly:

- SQLite: BEGIN IMMEDIATE, the statements, COMMIT.
- PostgreSQL: the statements and the COMMIT in psycopg's pipeline mode, sent in one
  round trip instead of one per statement, each as a statement the server prepared once
  on this connection (no parsing or planning per message; the parameters go apart, bound
  by the driver's C code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement

from scheduler.outbox.prepared import PreparedCache

Write = tuple[ClauseElement, Mapping[str, Any]]
Writes = list[Write]
"""Prepared statements to run, with their parameters."""

Gated = Sequence[tuple[Write, Writes]]
"""Statements whose row count decides: each (gate, the writes run only if it changed a row)."""


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
                self._commit(cursor)
            except BaseException:
                self._dbapi.rollback()
                raise
        return count

    def _commit(self, cursor: Any) -> None:
        """Commit the transaction `cursor` runs in (not pipelined)."""
        if self._begin is not None:
            # The driver's commit() compiles "COMMIT" anew each time; the cursor runs its
            # cached statement.
            cursor.execute("COMMIT")
        else:
            self._dbapi.commit()

    def _write_pipelined(self, writes: Writes) -> int:
        """PostgreSQL: every statement and the COMMIT in one pipeline (one round trip)."""
        conn: Any = self._dbapi.dbapi_connection
        with self._lock:
            try:
                with conn.pipeline():
                    cursor = conn.cursor()
                    self._queue(cursor, writes)
                    conn.commit()
                return int(cursor.rowcount)
            except BaseException:
                self._dbapi.rollback()
                raise

    def write_gated(self, writes: Writes, gated: Gated) -> list[bool]:
        """Run `writes`, then each gate and (only where the gate changed a row) the writes
        that follow it, all in one commit; whether each gate changed a row."""
        if self._pipelined:
            return self._write_gated_pipelined(writes, gated)
        cursor = self._cursor
        changed: list[bool] = []
        with self._lock:
            try:
                if self._begin is not None:
                    cursor.execute(self._begin)
                self._prepared.execute_all(cursor, writes)
                for (statement, values), follow in gated:
                    changed.append(self._prepared.get(statement).execute(cursor, values) > 0)
                    if changed[-1] and follow:
                        self._prepared.execute_all(cursor, follow)
                self._commit(cursor)
            except BaseException:
                self._dbapi.rollback()
                raise
        return changed

    def _write_gated_pipelined(self, writes: Writes, gated: Gated) -> list[bool]:
        """PostgreSQL: one pipeline, each gate on a cursor of its own (its row count); a
        sync only where a gate has writes to follow (a bundle's lead)."""
        conn: Any = self._dbapi.dbapi_connection
        with self._lock:
            try:
                with conn.pipeline() as pipeline:
                    cursor = conn.cursor()
                    self._queue(cursor, writes)
                    gates = []
                    for gate, follow in gated:
                        gates.append(conn.cursor())
                        self._queue(gates[-1], [gate])
                        if follow:
                            pipeline.sync()
                            if gates[-1].rowcount > 0:
                                self._queue(cursor, follow)
                    conn.commit()
                return [gate.rowcount > 0 for gate in gates]
            except BaseException:
                self._dbapi.rollback()
                raise

    def _queue(self, cursor: Any, writes: Writes) -> None:
        for statement, values in writes:
            prepared = self._prepared.get(statement)
            cursor.execute(prepared.sql, prepared.parameters(values), prepare=True)

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
        self._landed()
        return count

    def flush_gated(self, gated: Gated) -> list[bool]:
        """Commit the queued outcomes, then `gated` (see `OutboxWriter.write_gated`), in
        one transaction; whether each gate changed a row."""
        changed = self.writer.write_gated(list(self), gated)
        self._landed()
        return changed

    def _landed(self) -> None:
        self.clear()
        landed, self.ids = self.ids, []
        if self._on_commit is not None and landed:
            self._on_commit(landed)
