"""The hot path's UTC datetime conversions store exactly what SQLAlchemy's would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from scheduler.models import UTCDateTime
from scheduler.outbox.conversions import SAMPLES, faster, utc_datetime, utc_text

VALUES = [
    *SAMPLES[:-1],
    datetime(2027, 1, 11, 0, 0, 0, 0, tzinfo=UTC),
    datetime(2027, 1, 11, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-12))),
    datetime(1, 1, 1, 12, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def sqlalchemy_process(dialect: object) -> object:
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
    assert callable(process)
    return process


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_sqlite_text_is_byte_identical(value: datetime) -> None:
    process = sqlalchemy_process(sqlite.dialect())
    assert utc_text(value) == process(value)  # type: ignore[operator]
    assert faster(UTCDateTime(), sqlite.dialect(), process) is utc_text  # type: ignore[arg-type]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_postgresql_value_is_the_same_utc_datetime(value: datetime) -> None:
    dialect = postgresql.psycopg.dialect()
    process = sqlalchemy_process(dialect)
    got, expected = utc_datetime(value), process(value)  # type: ignore[operator]
    assert (got, got.tzinfo, got.utcoffset()) == (expected, expected.tzinfo,
                                                    expected.utcoffset())
    assert faster(UTCDateTime(), dialect, process) is utc_datetime  # type: ignore[arg-type]


@pytest.mark.parametrize("convert", [utc_text, utc_datetime])
def test_naive_and_non_datetimes_are_refused(convert: object) -> None:
    with pytest.raises(ValueError, match="naive"):
        convert(datetime(2027, 1, 11, 9, 30))  # type: ignore[operator]
    with pytest.raises((TypeError, ValueError, AttributeError)):
        convert(date(2027, 1, 11))  # type: ignore[operator]


def test_a_conversion_that_differs_is_not_replaced() -> None:
    def other(value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S")

    assert faster(UTCDateTime(), sqlite.dialect(), other) is other
