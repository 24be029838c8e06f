"""The per-instance pacer keeps a vendor's deployment-wide rate, without real sleeping."""

from __future__ import annotations

import threading

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


def test_requests_are_spaced_at_the_rate():
    time = FakeTime()
    pacer = Pacer(5.0, clock=time.clock, sleep=time.sleep)
    waits = [pacer.acquire() for _ in range(11)]
    assert waits[0] == 0.0
    # 11 requests at 5/s: the first is free, the other ten take two seconds.
    assert abs(time.now - 2.0) < 1e-9


def test_no_limit_means_no_waiting():
    time = FakeTime()
    pacer = Pacer(None, clock=time.clock, sleep=time.sleep)
    assert [pacer.acquire() for _ in range(100)] == [0.0] * 100
    assert time.now == 0.0


def test_idle_time_refills_only_up_to_the_burst():
    time = FakeTime()
    pacer = Pacer(10.0, burst=1.0, clock=time.clock, sleep=time.sleep)
    pacer.acquire()
    time.now += 60  # a long idle period must not allow a burst of 600
    assert pacer.acquire() == 0.0
    assert pacer.acquire() > 0.0


def test_concurrent_callers_share_one_budget():
    time = FakeTime()
    pacer = Pacer(10.0, clock=time.clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            wait = pacer.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 20 reservations at 10/s with the clock standing still: waits 0, 0.1, …, 1.9 in some order.
    assert sorted(round(w, 6) for w in waits) == [round(i / 10, 6) for i in range(20)]
