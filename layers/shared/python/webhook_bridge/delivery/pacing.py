"""Client-side pacing so a deployment stays under a vendor's request rate.

A vendor's limit is per team, i.e. for the whole deployment; each function instance gets
``limit / max_concurrency`` (the event source's maximum concurrency bounds the instances).
Each instance allows at most ``n`` requests in any sliding window, scheduled ahead under a
lock: a batch goes out at once while it fits, and the rest follows as the window slides,
so throughput stays at the limit without bursts over it. The window is stretched by
``headroom`` because requests reach the vendor with some jitter, and two instances' worst
cases must not add up to a request over the limit.

Written by hand: the rate-limit libraries either need a shared backend (Redis) or are
asyncio-only, and this is a dozen lines.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_HEADROOM = 1.05


class Pacer:
    def __init__(
        self,
        rate_per_second: float | None,
        *,
        headroom: float = DEFAULT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_window = max(1, math.floor(rate_per_second)) if rate_per_second else 0
        self._window = self._per_window / rate_per_second * headroom if rate_per_second else 0.0
        self._slots: deque[float] = deque(maxlen=self._per_window or None)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        if not self._per_window:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = now
            if len(self._slots) == self._per_window:
                # The request n places earlier must have left the window.
                slot = max(now, self._slots[0] + self._window)
            self._slots.append(slot)
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait
