"""The text forms of config/: durations, windows, rates, timing rules."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.config import (
    Timing,
    format_duration,
    parse_duration,
    parse_rate,
    parse_timing,
    parse_window,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("90m", timedelta(minutes=90)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 1d 12h ", timedelta(days=1, hours=12)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "90", "1.5h", "-1h", "1H", "1y", "h", "1h1h", "1h 30", "10" * 30 + "d"]
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_format_duration_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@given(
    st.lists(st.sampled_from("smhdw"), unique=True, min_size=1),
    st.lists(st.integers(0, 10**6), min_size=5, max_size=5),
)
def test_parse_duration_sums_its_parts(units: list[str], amounts: list[int]) -> None:
    text = "".join(f"{amounts[i]}{unit}" for i, unit in enumerate(units))
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    expected = sum(amounts[i] * seconds[u] for i, u in enumerate(units))
    assert parse_duration(text) == timedelta(seconds=expected)


def test_parse_window() -> None:
    assert parse_window("08:00-20:00") == (time(8), time(20))
    assert parse_window("8:30 - 17:45") == (time(8, 30), time(17, 45))
    assert parse_window("22:00-06:00") == (time(22), time(6))  # overnight
    assert parse_window("18:00-24:00") == (time(18), time(0))
    for bad in ["08:00", "08:00-", "8-20", "24:00-08:00", "08:60-09:00", "09:00-09:00", "a-b"]:
        with pytest.raises(ValueError, match="invalid window"):
            parse_window(bad)


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59))
def test_parse_window_reads_any_distinct_pair(h1: int, m1: int, h2: int, m2: int) -> None:
    text = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    if (h1, m1) == (h2, m2):
        with pytest.raises(ValueError):
            parse_window(text)
    else:
        assert parse_window(text) == (time(h1, m1), time(h2, m2))


def test_parse_rate() -> None:
    assert parse_rate("100/s") == (100, timedelta(seconds=1))
    assert parse_rate("30/m") == (30, timedelta(minutes=1))
    assert parse_rate("600/h") == (600, timedelta(hours=1))
    assert parse_rate("1000/d") == (1000, timedelta(days=1))
    assert parse_rate("300 / 5m") == (300, timedelta(minutes=5))
    for bad in ["100", "0/s", "-1/s", "10/x", "10/0s", "/s", "ten/s", "1.5/s"]:
        with pytest.raises(ValueError, match="invalid rate"):
            parse_rate(bad)


def test_parse_timing() -> None:
    assert parse_timing("on_publish") == Timing("on_publish")
    assert parse_timing("before  registration_deadline 10d") == Timing(
        "before", field="registration_deadline", offset=timedelta(days=10)
    )
    assert parse_timing("before start_date 45d") == Timing(
        "before", field="start_date", offset=timedelta(days=45)
    )
    timing = parse_timing("cron:0 8 * * MON")
    assert timing == Timing("cron", cron="0 8 * * MON")
    assert str(timing) == "cron: 0 8 * * MON"
    assert str(parse_timing("before start_date 36h")) == "before start_date 1d12h"
    for bad, reason in [
        ("on publish", "invalid timing"),
        ("before end_date 3d", "counts from start_date or registration_deadline"),
        ("before start_date soon", "invalid duration"),
        ("cron: 0 8 * *", "expected 5 fields"),
        ("cron: 0 25 * * MON", "invalid cron expression"),
        ("cron: 0 8 * * MONDAY", "invalid cron expression"),
        ("", "invalid timing"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_timing(bad)
