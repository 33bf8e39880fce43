"""Prepared statements hand the driver the parameters SQLAlchemy itself would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from scheduler.outbox import statements as sql
from scheduler.outbox.prepared import Prepared, _literal

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


def filled(text: str, params: tuple[Any, ...]) -> str:
    """`text` with each `?` replaced by its parameter written as an SQL literal."""
    pieces = text.split("?")
    assert len(pieces) == len(params) + 1
    out = [pieces[0]]
    for value, after in zip(params, pieces[1:], strict=True):
        out.extend((_literal(value) or "<unwritable>", after))
    return "".join(out)


@pytest.mark.parametrize(("name", "statement", "values"), CASES, ids=[c[0] for c in CASES])
def test_positional_parameters_match_sqlalchemys(name: str, statement: ClauseElement,
                                                 values: dict[str, Any]) -> None:
    """The SQL with its parameters says what SQLAlchemy's SQL with its parameters says
    (the statement's own literals now written in the SQL, the caller's still bound)."""
    prepared = Prepared(statement, sqlite.dialect())
    expected = sqlalchemy_parameters(statement, values)
    sqlalchemy_sql = str(statement.compile(dialect=sqlite.dialect()))
    got = tuple(prepared.parameters(values))
    assert filled(prepared.sql, got) == filled(sqlalchemy_sql, expected)
    assert len(got) < len(expected)  # the constants went into the SQL
    assert tuple(prepared.parameters(values)) == got  # the template is not changed
    later = {k: (v + timedelta(seconds=1) if isinstance(v, datetime) else v)
             for k, v in values.items()}
    assert filled(prepared.sql, tuple(prepared.parameters(later))) == filled(
        sqlalchemy_sql, sqlalchemy_parameters(statement, later))
    assert "2027-01-11 09:30:00.123456" in got


def test_a_quoted_statement_keeps_its_parameters_bound() -> None:
    statement = sql.FINISH.where(text("'?' = '?'"))
    prepared = Prepared(statement, sqlite.dialect())
    assert prepared.sql == str(statement.compile(dialect=sqlite.dialect()))


def test_a_missing_parameter_is_named() -> None:
    prepared = Prepared(sql.FINISH, sqlite.dialect())
    with pytest.raises(KeyError, match="p_state"):
        prepared.parameters({"p_id": 1})


def test_none_for_a_datetime_stays_none() -> None:
    values = {**CASES[1][2], "p_sent_at": None}
    prepared = Prepared(sql.FINISH, sqlite.dialect())
    assert filled(prepared.sql, tuple(prepared.parameters(values))) == filled(
        str(sql.FINISH.compile(dialect=sqlite.dialect())),
        sqlalchemy_parameters(sql.FINISH, values))


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
