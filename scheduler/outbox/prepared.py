"""Statements compiled once and run straight on the driver's cursor: the hot path's writes.

SQLAlchemy spends about a quarter of a millisecond of CPU around each statement it runs
(cache lookup, parameter processing, result set-up); SQLite itself spends a tenth of that
on a one-row UPDATE. The dispatcher runs three such statements for every message, so it
compiles them once per dialect here and hands the SQL and the converted parameters to a
DBAPI cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    """One statement compiled for one dialect, with its parameters' type conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        # Literal values of the statement (`state='sending'`) come with it; the others must
        # be given on every run.
        self.defaults: dict[str, Any] = dict(compiled.construct_params(_check=False) or {})
        self.required = frozenset(name for name, bind in compiled.binds.items()
                                  if bind.required and name in self.defaults)
        self.order: tuple[str, ...] | None = (tuple(compiled.positiontup or ())
                                              if dialect.positional else None)
        # The conversions SQLAlchemy itself applies when it executes this compiled form
        # (UTC datetimes to the column's storage). Tuple parameters are not used here.
        self.processors: tuple[tuple[str, Callable[[Any], Any]], ...] = tuple(
            (name, process) for name, process in compiled._bind_processors.items()
            if callable(process))
        # Positional drivers (SQLite): each position's name, default and conversion, so
        # the tuple is built in one pass (a name used twice is converted twice: a
        # datetime's second conversion is remembered, see `_converted`).
        convert = dict(self.processors)
        self.slots: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] | None = (
            tuple((name, self.defaults.get(name), convert.get(name)) for name in self.order)
            if self.order is not None else None)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values` (every required parameter must be given)."""
        if not self.required <= values.keys():
            missing = sorted(self.required.difference(values))
            raise KeyError(f"missing parameter(s) {missing} for {self.sql!r}")
        if self.slots is not None:
            get = values.get
            return tuple([get(name, default) if process is None
                          else _converted(process, get(name, default))
                          for name, default, process in self.slots])
        params = {name: values.get(name, default) for name, default in self.defaults.items()}
        for name, process in self.processors:
            params[name] = _converted(process, params[name])
        if self.order is not None:
            return tuple([params[name] for name in self.order])
        return params

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Execute on a DBAPI cursor (inside the caller's transaction); the row count."""
        cursor.execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)


_DATETIMES: dict[tuple[Callable[[Any], Any], datetime], Any] = {}
"""Datetimes already converted, by conversion: a message's moment goes into several
parameters (its outcome's `updated_at`, `sent_at` and event time) and statements."""


def _converted(process: Callable[[Any], Any], value: Any) -> Any:
    """`process(value)`; a datetime's conversion (about 5 us) is remembered a while."""
    if type(value) is not datetime:
        return process(value)
    key = (process, value)
    found = _DATETIMES.get(key, _DATETIMES)
    if found is _DATETIMES:
        if len(_DATETIMES) >= 64:
            _DATETIMES.clear()
        found = _DATETIMES[key] = process(value)
    return found


class PreparedCache:
    """Prepared statements by statement, for the dialect of the engine in use."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[int, tuple[ClauseElement, Prepared]] = {}

    def get(self, statement: ClauseElement) -> Prepared:
        found = self._cache.get(id(statement))
        if found is None or found[0] is not statement:
            found = (statement, Prepared(statement, self.dialect))
            self._cache[id(statement)] = found
        return found[1]

    def execute_all(self, cursor: Any,
                    writes: Iterable[tuple[ClauseElement, Mapping[str, Any]]]) -> int:
        """Run each (statement, values) in order on a DBAPI cursor; the last row count."""
        count = 0
        for statement, values in writes:
            count = self.get(statement).execute(cursor, values)
        return count
