"""A send worker's own database connection for the outbox writes of the hot path.

Every message costs one commit (its `sending` mark, carrying the previous message's
outcome). Through SQLAlchemy's `Connection.begin()` and commit that is a few tenths of a
millisecond of CPU on top of what the database does, so a worker keeps one pooled DBAPI
connection and runs the prepared statements on it directly:

- SQLite: BEGIN IMMEDIATE, the statements, COMMIT.
- PostgreSQL: the statements joined into one multi-statement query, sent in one round
  trip instead of one per statement plus the COMMIT. The server runs such a query as a
  single transaction, all or nothing (the connection is in autocommit mode while the
  writer holds it); psycopg's client-side binding quotes the parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement

from scheduler.prepared import PreparedCache

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
        self._joined: dict[tuple[int, ...], str] = {}
        self._client_cursor: Any = None
        if engine.dialect.driver == "psycopg":
            import psycopg

            self._dbapi.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            self._client_cursor = psycopg.ClientCursor

    def write(self, writes: Writes) -> int:
        """Run `writes` in one commit; the row count of the last statement (0 if none)."""
        if not writes:
            return 0
        if self._client_cursor is not None:
            return self._write_joined(writes)
        with self._lock:
            cursor = self._dbapi.cursor()
            try:
                if self._begin is not None:
                    cursor.execute(self._begin)
                count = self._prepared.execute_all(cursor, writes)
                self._dbapi.commit()
            except BaseException:
                self._dbapi.rollback()
                raise
            finally:
                cursor.close()
        return count

    def _write_joined(self, writes: Writes) -> int:
        """PostgreSQL: every statement in one query (one implicit transaction)."""
        key = tuple(id(statement) for statement, _values in writes)
        params: dict[str, Any] = {}
        parts: list[str] = []
        for k, (statement, values) in enumerate(writes):
            prepared = self._prepared.get(statement)
            given = prepared.parameters(values)
            assert isinstance(given, dict)
            params.update({f"{name}__{k}": value for name, value in given.items()})
            if key not in self._joined:
                parts.append(_PLACEHOLDER.sub(rf"%(\1__{k})s", prepared.sql))
        sql = self._joined.setdefault(key, ";\n".join(parts))
        with self._lock:
            cursor = self._client_cursor(self._dbapi.dbapi_connection)
            try:
                cursor.execute(sql, params)
                while cursor.nextset():
                    pass  # to the last statement's result
                return int(cursor.rowcount)
            finally:
                cursor.close()

    def close(self) -> None:
        """Give the connection back to the engine's pool (as it was lent)."""
        if self._client_cursor is not None:
            try:
                self._dbapi.dbapi_connection.autocommit = False  # type: ignore[union-attr]
            except Exception:  # a broken connection: the pool must not lend it again
                self._dbapi.invalidate()
        self._dbapi.close()


# A named parameter in SQLAlchemy's psycopg SQL (`%%` stays a literal percent sign).
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Pending(Writes):
    """Outcomes queued for a worker's next commit, and the writer that will commit them."""

    def __init__(self, writer: OutboxWriter) -> None:
        super().__init__()
        self.writer = writer

    def flush(self, writes: Writes | None = None) -> int:
        """Commit the queued outcomes, then `writes`, in one transaction; the last count."""
        count = self.writer.write([*self, *(writes or ())])
        self.clear()
        return count
