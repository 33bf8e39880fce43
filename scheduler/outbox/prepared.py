"""Statements compiled once and run straight on the driver's cursor: the hot path's writes.

SQLAlchemy spends about a quarter of a millisecond of CPU around each statement it runs
(cache lookup, parameter processing, result set-up); SQLite itself spends a tenth of that
on a one-row UPDATE. The dispatcher runs three such statements for every message, so it
compiles them once per dialect here and hands the SQL and the converted parameters to a
DBAPI cursor.

The parameters are built from a template made once per statement: the statement's own
literals (`state='sending'`, the event's constant tags) sit in it already converted, and
only the caller's parameters are filled in and converted per run. A UTC datetime goes
through `scheduler.outbox.conversions` (a few times cheaper than SQLAlchemy's type
processors, and checked against them when the statement is prepared).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from scheduler.outbox.conversions import faster

Convert = Callable[[Any], Any]


class Prepared:
    """One statement compiled for one dialect, with its parameters' type conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        # Literal values of the statement (`state='sending'`) come with it; the others (its
        # bind parameters without a value) must be given on every run.
        defaults: dict[str, Any] = dict(compiled.construct_params(_check=False) or {})
        self.required = frozenset(name for name, bind in compiled.binds.items()
                                  if bind.required and name in defaults)
        # The conversions SQLAlchemy itself applies when it executes this compiled form
        # (UTC datetimes to the column's storage), or faster equal ones.
        convert: dict[str, Convert] = {
            name: faster(compiled.binds[name].type, dialect, process)
            for name, process in compiled._bind_processors.items() if callable(process)}
        constants = {name: (value if name not in convert or value is None
                            else convert[name](value))
                     for name, value in defaults.items() if name not in self.required}
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        self._positional = order is not None
        if order is not None and dialect.name == "sqlite":
            self.sql, order = _inlined(self.sql, order, constants, self.required)
        # The template (a list for a positional driver such as SQLite, a dict otherwise),
        # and each caller's parameter's slots in it: (slot, name, conversion or None).
        self._template: list[Any] | dict[str, Any]
        if order is not None:
            self._template = [constants.get(name) for name in order]
            slots: list[tuple[Any, str, Convert | None]] = [
                (i, name, convert.get(name)) for i, name in enumerate(order)
                if name in self.required]
        else:
            self._template = {**constants, **dict.fromkeys(self.required)}
            slots = [(name, name, convert.get(name)) for name in sorted(self.required)]
        self._plain = tuple((slot, name) for slot, name, process in slots if process is None)
        self._converted = tuple((slot, name, process) for slot, name, process in slots
                                if process is not None)

    def parameters(self, values: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters for `values` (every required parameter must be given;
        other names in `values` are ignored)."""
        params: Any = self._template.copy()
        try:
            for slot, name in self._plain:
                params[slot] = values[name]
            for slot, name, process in self._converted:
                value = values[name]
                params[slot] = None if value is None else process(value)
        except KeyError:
            missing = sorted(self.required.difference(values))
            raise KeyError(f"missing parameter(s) {missing} for {self.sql!r}") from None
        return params

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Execute on a DBAPI cursor (inside the caller's transaction); the row count."""
        cursor.execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)


def _literal(value: Any) -> str | None:
    """`value` as an SQLite literal, or None when it is better bound."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"  # as the driver binds a bool
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return "'" + value.replace("'", "''") + "'"
    return None


def _inlined(sql: str, order: tuple[str, ...], constants: Mapping[str, Any],
             required: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """SQLite: the statement's own literals written into its SQL (the driver binds each
    parameter one by one: a tagged event's twenty constants cost more than its SQL), and
    the order of the parameters left. Unchanged when a `?` might be inside a quoted part."""
    pieces = sql.split("?")
    if "'" in sql or '"' in sql or len(pieces) != len(order) + 1:
        return sql, order
    out, left = [pieces[0]], []
    for name, after in zip(order, pieces[1:], strict=True):
        literal = None if name in required else _literal(constants.get(name))
        if literal is None:
            left.append(name)
            literal = "?"
        out.extend((literal, after))
    return "".join(out), tuple(left)


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
