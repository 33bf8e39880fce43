"""The feed's claim sizes: larger batches while a batch is sent well within its lease."""

from __future__ import annotations

from datetime import timedelta

from scheduler.dispatch.feed import BatchSizer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_batches_grow_when_fast_and_shrink_when_slow() -> None:
    clock = Clock()
    sizer = BatchSizer(100, 500, timedelta(minutes=5), clock)  # 75 s for a batch
    assert sizer.next() == 100
    sizer.claimed(100)
    clock.now += 0.2  # 2 ms an email
    assert sizer.next() == 500
    sizer.claimed(500)
    clock.now += 250.0  # 0.5 s an email (a `rate` of 2/s): 150 fit in 75 s
    assert sizer.next() == 150
    sizer.claimed(150)
    clock.now += 600.0  # 4 s an email
    assert sizer.next() == 18
    sizer.claimed(3)  # fewer were due
    clock.now += 0.003
    assert sizer.next() == 500


def test_a_very_slow_channel_still_claims_one_at_a_time() -> None:
    clock = Clock()
    sizer = BatchSizer(100, 500, timedelta(minutes=5), clock)
    sizer.next()
    sizer.claimed(100)
    clock.now += 100 * 600.0  # 10 minutes an email: longer than the lease
    assert sizer.next() == 1
