"""The per-instance pacer keeps a vendor's deployment-wide rate, without real sleeping."""

from __future__ import annotations

import threading

import pytest

from webhook_bridge.delivery.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def sent_at(pacer: Pacer, time: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        pacer.acquire()
        times.append(round(time.now, 6))
    return times


def test_a_batch_that_fits_the_window_goes_out_at_once_and_the_rest_follows():
    time = FakeTime()
    pacer = Pacer(5.0, headroom=1.0, clock=time.clock, sleep=time.sleep)
    assert sent_at(pacer, time, 11) == [0.0] * 5 + [1.0] * 5 + [2.0]


@pytest.mark.parametrize("rate", [5.0, 4.5, 20.0, 2.5, 0.5])
def test_no_window_ever_holds_more_than_the_rate(rate):
    time = FakeTime()
    pacer = Pacer(rate, clock=time.clock, sleep=time.sleep)
    times = sent_at(pacer, time, 60)
    allowed = max(1, int(rate))
    for start in times:
        assert sum(1 for t in times if start <= t < start + allowed / rate) <= allowed
    # …and keeps up: within 5 % of the rate over the run.
    assert (len(times) - allowed) / times[-1] >= rate / 1.05 - 1e-3


def test_headroom_stretches_the_window():
    time = FakeTime()
    pacer = Pacer(5.0, headroom=1.05, clock=time.clock, sleep=time.sleep)
    assert sent_at(pacer, time, 6)[-1] == 1.05


def test_no_limit_means_no_waiting():
    time = FakeTime()
    pacer = Pacer(None, clock=time.clock, sleep=time.sleep)
    assert [pacer.acquire() for _ in range(100)] == [0.0] * 100
    assert time.now == 0.0


def test_idle_time_does_not_allow_a_bigger_burst():
    time = FakeTime()
    pacer = Pacer(10.0, headroom=1.0, clock=time.clock, sleep=time.sleep)
    sent_at(pacer, time, 10)
    time.now += 60
    assert sent_at(pacer, time, 11) == [60.0] * 10 + [61.0]


def test_concurrent_callers_share_one_budget():
    time = FakeTime()
    pacer = Pacer(10.0, headroom=1.0, clock=time.clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            wait = pacer.acquire()
            with lock:
                waits.append(round(wait, 6))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 20 requests at 10/s with the clock standing still: ten now, ten a second later.
    assert sorted(waits) == [0.0] * 10 + [1.0] * 10
