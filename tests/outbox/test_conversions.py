"""The hot path's UTC datetime conversions store exactly what SQLAlchemy's would."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite

from scheduler.db import ensure_schema, make_engine
from scheduler.models import Delivery, UTCDateTime
from scheduler.outbox import statements as sql
from scheduler.outbox.conversions import SAMPLES, faster, utc_datetime, utc_text
from scheduler.outbox.prepared import PreparedCache
from scheduler.outbox.writer import OutboxWriter

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


def test_the_hot_path_stores_the_same_text_as_sqlalchemy(tmp_path: Path) -> None:
    """Row 1 through the prepared writer, row 2 through SQLAlchemy: the same stored bytes."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    ensure_schema(engine)
    moment = datetime(2027, 1, 11, 10, 30, 0, 120, tzinfo=timezone(timedelta(hours=1)))
    with engine.begin() as c:
        c.execute(insert(Delivery), [
            {"id": i, "dedup_key": f"k{i}", "campaign": "a", "kind": "post", "channel": "x",
             "template": "t", "state": "sending", "due_at": moment, "attempts": 1,
             "created_at": moment, "updated_at": moment} for i in (1, 2)])
        c.execute(update(Delivery).where(Delivery.id == 2).values(
            state="sent", updated_at=moment, sent_at=moment, lease_owner=None))
    writer = OutboxWriter(engine, PreparedCache(engine.dialect), threading.Lock())
    try:
        writer.write([(sql.FINISH, {"p_id": 1, "p_state": "sent", "p_now": moment,
                                    "p_error": None, "p_sent_at": moment,
                                    "p_provider_id": None, "p_due_at": None,
                                    "p_attempts": None})])
    finally:
        writer.close()
    with engine.connect() as c:
        stored = c.exec_driver_sql(
            "SELECT id, typeof(sent_at), sent_at, updated_at FROM deliveries ORDER BY id").all()
    engine.dispose()
    assert stored[0][1:] == stored[1][1:] == ("text", "2027-01-11 09:30:00.000120",
                                              "2027-01-11 09:30:00.000120")


def test_utc_text_of_the_same_moment_again_and_of_another() -> None:
    """The text of the last datetime is reused only for that very object: an equal value
    in another zone, and a later one, get their own."""
    first = datetime(2027, 1, 11, 9, 30, 0, 5, tzinfo=UTC)
    assert utc_text(first) == utc_text(first) == "2027-01-11 09:30:00.000005"
    same_moment = first.astimezone(timezone(timedelta(hours=2)))
    assert utc_text(same_moment) == "2027-01-11 09:30:00.000005"
    assert utc_text(first + timedelta(seconds=1)) == "2027-01-11 09:30:01.000005"
    assert utc_text(first) == "2027-01-11 09:30:00.000005"
