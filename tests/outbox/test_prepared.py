"""Prepared statements hand the driver the parameters SQLAlchemy itself would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from scheduler.outbox import statements as sql
from scheduler.outbox.prepared import Prepared

NOW = datetime(2027, 1, 11, 9, 30, 0, 123456, tzinfo=UTC)
CASES: list[tuple[str, ClauseElement, dict[str, Any]]] = [
    ("begin_send", sql.BEGIN_SEND[(True, True)],
     {"p_id": 5, "p_owner": "host:1:abc", "p_now": NOW, "p_expires": NOW + timedelta(minutes=5),
      "p_participant": 3, "p_email": "a@example.org", "p_course": "C1"}),
    ("finish", sql.FINISH,
     {"p_id": 5, "p_state": "sent", "p_now": NOW, "p_error": None, "p_sent_at": NOW,
      "p_provider_id": "<x@example.org>", "p_due_at": None, "p_attempts": 2}),
    ("event", sql.EVENT, {"p_delivery_id": 5, "p_type": "sent", "p_at": NOW, "p_detail": ""}),
]


def sqlalchemy_parameters(statement: ClauseElement, values: dict[str, Any]) -> tuple[Any, ...]:
    """What SQLAlchemy's own execution passes the driver: params, converted, in order."""
    compiled = statement.compile(dialect=sqlite.dialect())
    assert isinstance(compiled, SQLCompiler)
    params = compiled.construct_params(values, _check=False)
    for name, process in compiled._bind_processors.items():
        if callable(process) and params.get(name) is not None:
            params[name] = process(params[name])
    return tuple(params[name] for name in compiled.positiontup or ())


@pytest.mark.parametrize(("name", "statement", "values"), CASES, ids=[c[0] for c in CASES])
def test_positional_parameters_match_sqlalchemys(name: str, statement: ClauseElement,
                                                 values: dict[str, Any]) -> None:
    prepared = Prepared(statement, sqlite.dialect())
    expected = sqlalchemy_parameters(statement, values)
    assert tuple(prepared.parameters(values)) == expected
    assert tuple(prepared.parameters(values)) == expected  # the template is not changed
    later = {k: (v + timedelta(seconds=1) if isinstance(v, datetime) else v)
             for k, v in values.items()}
    assert tuple(prepared.parameters(later)) == sqlalchemy_parameters(statement, later)
    assert "2027-01-11 09:30:00.123456" in expected


def test_a_missing_parameter_is_named() -> None:
    prepared = Prepared(sql.FINISH, sqlite.dialect())
    with pytest.raises(KeyError, match="p_state"):
        prepared.parameters({"p_id": 1})


def test_none_for_a_datetime_stays_none() -> None:
    values = {**CASES[1][2], "p_sent_at": None}
    prepared = Prepared(sql.FINISH, sqlite.dialect())
    assert tuple(prepared.parameters(values)) == sqlalchemy_parameters(sql.FINISH, values)


def test_named_parameters_match_sqlalchemys_on_postgresql() -> None:
    dialect = postgresql.psycopg.dialect()
    for _name, statement, values in CASES:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        expected = compiled.construct_params(values, _check=False)
        for key, process in compiled._bind_processors.items():
            if callable(process) and expected.get(key) is not None:
                expected[key] = process(expected[key])
        got = Prepared(statement, dialect).parameters(values)
        assert got == expected
        assert {k: repr(v) for k, v in got.items()} == {k: repr(v) for k, v in expected.items()}
