"""Sliding-window rate limiter, the way Loops documents its limit (10 requests/second per team)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from devstack.sandbox.clock import Clock


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds: 1 when refused, 0 when allowed

    def headers(self) -> dict[str, str]:
        """Headers Loops sends on every answer; ``Retry-After`` only on a refusal."""
        headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(self.remaining)}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class SlidingWindowRateLimiter:
    """Admit at most ``limit`` requests in any window of one second ("per second").

    A sliding log rather than a fixed bucket: a fixed per-second bucket lets 2x the limit
    through around a boundary, which would hide client bugs the real API can punish.
    Only admitted requests are logged, so a client that backs off as told recovers; one
    that keeps hammering keeps being refused, as with the real service.
    """

    def __init__(self, limit: int, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> RateDecision:
        with self._lock:
            now = self._clock.monotonic()
            # The window is (now - 1, now]: a request exactly one second old has left it.
            while self._admitted and self._admitted[0] <= now - 1:
                self._admitted.popleft()
            if len(self._admitted) < self.limit:
                self._admitted.append(now)
                return RateDecision(True, self.limit, self.limit - len(self._admitted), 0)
            # The oldest request leaves the window within the second: "Retry-After: 1".
            return RateDecision(False, self.limit, 0, 1)

    def reset(self) -> None:
        with self._lock:
            self._admitted.clear()
