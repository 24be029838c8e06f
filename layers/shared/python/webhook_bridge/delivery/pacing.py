"""Client-side pacing so a deployment stays under a vendor's request rate.

The vendor's limit is per team, i.e. for the whole deployment; each function instance
gets ``limit / max_concurrency`` (the event source's maximum concurrency bounds the
instances). A token bucket is a dozen lines and needs no shared store; the libraries
that do this either pull in a backend (Redis) or are asyncio-only, hence by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        rate_per_second: float | None,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate_per_second
        self._capacity = max(burst, 1.0)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may be sent; return the seconds waited."""
        if not self._rate:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
        if wait:
            self._sleep(wait)
        return wait
