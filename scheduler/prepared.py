"""Statements compiled once and run straight on the driver's cursor: the hot path's writes.

SQLAlchemy spends about a quarter of a millisecond of CPU around each statement it runs
(cache lookup, parameter processing, result set-up); SQLite itself spends a tenth of that
on a one-row UPDATE. The dispatcher runs three such statements for every message, so it
compiles them once per dialect here and hands the SQL and the converted parameters to the
DBAPI cursor of the connection (and transaction) SQLAlchemy already holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    """One statement compiled for one dialect, with its parameters' type conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = str(compiled)
        self.order: list[str] | None = (list(compiled.positiontup or [])
                                        if dialect.positional else None)
        # The conversions SQLAlchemy itself applies when it executes this compiled form
        # (UTC datetimes to the column's storage), keyed like `construct_params`.
        # (Tuple parameters, whose processors are sequences, are not used here.)
        self.processors = cast(Mapping[str, Callable[[Any], Any]], compiled._bind_processors)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values` (every bind parameter must be given)."""
        params = dict(self.compiled.construct_params(dict(values)) or {})
        for name, process in self.processors.items():
            if name in params:
                params[name] = process(params[name])
        if self.order is not None:
            return tuple(params[name] for name in self.order)
        return params

    def run(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Execute on `conn`'s DBAPI connection (inside its transaction); the row count."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self.parameters(values))
            return int(cursor.rowcount)
        finally:
            cursor.close()


class PreparedCache:
    """Prepared statements by statement, for the dialect of the engine in use."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[int, tuple[ClauseElement, Prepared]] = {}

    def run(self, conn: Connection, statement: ClauseElement, values: Mapping[str, Any]) -> int:
        found = self._cache.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, Prepared(statement, self.dialect))
            self._cache[id(statement)] = found
        return found[1].run(conn, values)
