"""`column IN (a list given at run time)` as ONE parameter, for statements run per batch.

SQLAlchemy's expanding `IN` renders one placeholder per value on every execution: for a
batch of a hundred ids that cost more than running the query on SQLite. Here the list
is one parameter: a PostgreSQL array (`= ANY(:p)`), or on SQLite a JSON array read by
`json_each` (`IN (SELECT value FROM json_each(:p))`); the SQL text stays the same
whatever the list's length, and each value is still found by the column's index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY


def in_list(column: ColumnElement[Any], name: str, postgres: bool) -> ColumnElement[bool]:
    """`column` is one of the values of parameter `name` (see `list_param`)."""
    if postgres:
        item = Integer() if isinstance(column.type, Integer) else String()
        return column == any_(bindparam(name, type_=ARRAY(item)))
    values = func.json_each(bindparam(name, type_=String())).table_valued("value")
    return column.in_(select(values.c.value))


def list_param(values: Iterable[Any], postgres: bool) -> Any:
    """The value of an `in_list` parameter."""
    return list(values) if postgres else json.dumps(list(values))
