"""Send pacing: even spacing across threads, rate parsing."""

from __future__ import annotations

import threading

import pytest

from channels.pacing import Pacer, parse_rate


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        # A sleeping caller does not move time for the others: slots come from the reservation.
        assert seconds > 0


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [
        ("100/s", 100, 1.0),
        ("30/m", 30, 60.0),
        ("600/h", 600, 3600.0),
        ("1000/d", 1000, 86400.0),
        ("30/5m", 30, 300.0),
        (" 5 / s ", 5, 1.0),
    ],
)
def test_parse_rate(text: str, count: int, period: float) -> None:
    assert parse_rate(text) == (count, period)


@pytest.mark.parametrize("text", ["", "100", "0/s", "10/0s", "10/w", "fast", "-1/s", "1.5/s"])
def test_parse_rate_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid rate"):
        parse_rate(text)


def test_slots_are_evenly_spaced_from_the_first_call() -> None:
    clock = FakeClock()
    pacer = Pacer(4, 1.0, clock=clock, sleep=clock.sleep)
    assert [pacer.wait() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_an_idle_pacer_does_not_bank_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10, 1.0, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 60  # a minute idle
    assert pacer.wait() == 0.0
    assert pacer.wait() == pytest.approx(0.1)


def test_threads_get_distinct_slots() -> None:
    clock = FakeClock()
    pacer = Pacer(100, 1.0, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            waited = pacer.wait()
            with lock:
                waits.append(waited)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [round(n * 0.01, 6) for n in range(100)]


def test_no_rate_no_pacer() -> None:
    assert Pacer.from_rate(None) is None
    pacer = Pacer.from_rate("20/s")
    assert pacer is not None and pacer.interval == pytest.approx(0.05)
