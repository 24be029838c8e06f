"""Fault injection and per-vendor latency, so tests can make a vendor fail or slow down on demand."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


class FaultSpecError(ValueError):
    """A fault or latency request that cannot be honoured; answered with 400."""


@dataclass
class Fault:
    """Answer the next ``remaining`` requests to ``vendor`` with ``status`` and/or after ``delay_ms``."""

    vendor: str
    status: int | None
    remaining: int
    retry_after: int | None = None
    delay_ms: int = 0
    # The error message repeats the request body, as vendors' error texts do (emails and all).
    echo: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "status": self.status,
            "count": self.remaining,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "echo": self.echo,
        }

    @classmethod
    def from_spec(cls, spec: Any, vendors: frozenset[str]) -> Fault:
        """Validate the JSON of ``POST /_sandbox/faults``."""
        if not isinstance(spec, dict):
            raise FaultSpecError("body must be a JSON object")
        vendor = spec.get("vendor")
        if vendor not in vendors:
            raise FaultSpecError(f"'vendor' must be one of {sorted(vendors)}")
        status = spec.get("status")
        if status is not None and (not _is_int(status) or not 200 <= status <= 599):
            raise FaultSpecError("'status' must be an integer HTTP status between 200 and 599")
        count = spec.get("count", 1)
        if not _is_int(count) or count < 1:
            raise FaultSpecError("'count' must be an integer >= 1")
        delay_ms = spec.get("delay_ms", 0) or 0
        if not _is_number(delay_ms) or delay_ms < 0:
            raise FaultSpecError("'delay_ms' must be a number >= 0")
        retry_after = spec.get("retry_after")
        if retry_after is not None and (not _is_number(retry_after) or retry_after < 0):
            raise FaultSpecError("'retry_after' must be a number of seconds >= 0")
        if status is None and not delay_ms:
            raise FaultSpecError("give a 'status', a 'delay_ms', or both")
        echo = spec.get("echo", False)
        if not isinstance(echo, bool):
            raise FaultSpecError("'echo' must be true or false")
        return cls(
            vendor=vendor,
            status=status,
            remaining=count,
            # Retry-After is whole seconds on the wire; round up so a client never retries early.
            retry_after=None if retry_after is None else math.ceil(retry_after),
            delay_ms=int(delay_ms),
            echo=echo,
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class FaultInjector:
    """Pending faults per vendor, consumed first-in first-out, one request at a time.

    Several faults for one vendor queue up, so a test can script "two 503s, then a 429".
    """

    def __init__(self) -> None:
        self._pending: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.setdefault(fault.vendor, deque()).append(fault)

    def take(self, vendor: str) -> Fault | None:
        """The fault that applies to this request, if any, with its budget decremented."""
        with self._lock:
            queue = self._pending.get(vendor)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return Fault(fault.vendor, fault.status, 1, fault.retry_after, fault.delay_ms, fault.echo)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_dict() for queue in self._pending.values() for fault in queue]

    def clear(self, vendor: str | None = None) -> None:
        with self._lock:
            if vendor is None:
                self._pending.clear()
            else:
                self._pending.pop(vendor, None)


class LatencyTable:
    """A fixed delay added to every request of a vendor (benchmarks, timeout tests)."""

    def __init__(self) -> None:
        self._ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def set(self, vendor: str, ms: float) -> None:
        with self._lock:
            if ms > 0:
                self._ms[vendor] = ms
            else:
                self._ms.pop(vendor, None)

    def get(self, vendor: str) -> float:
        with self._lock:
            return self._ms.get(vendor, 0.0)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return dict(self._ms)

    def clear(self) -> None:
        with self._lock:
            self._ms.clear()
