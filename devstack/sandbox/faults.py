"""Fault injection and per-vendor latency, so tests can make a vendor fail or slow down on demand."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from devstack.sandbox.wire import is_int


class FaultSpecError(ValueError):
    """A fault or latency request that cannot be honoured; answered with 400."""


@dataclass
class Fault:
    """Answer the next ``count`` requests to ``vendor`` with ``status`` and/or after ``delay_ms``."""

    vendor: str
    status: int | None
    count: int = 1
    retry_after: int | None = None
    delay_ms: int = 0
    # The error message repeats the request body, as vendors' error texts do (emails and all).
    echo: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_spec(cls, spec: Any, vendors: frozenset[str]) -> Fault:
        """Validate the JSON of ``POST /_sandbox/faults``."""
        if not isinstance(spec, dict):
            raise FaultSpecError("body must be a JSON object")
        if spec.get("vendor") not in vendors:
            raise FaultSpecError(f"'vendor' must be one of {sorted(vendors)}")
        defaults = {"status": None, "count": 1, "delay_ms": 0, "retry_after": None, "echo": False}
        fields: dict[str, Any] = {name: spec.get(name, default) for name, default in defaults.items()}
        fields["delay_ms"] = fields["delay_ms"] or 0
        for name, valid, expected in _SPEC_CHECKS:
            if not valid(fields[name]):
                raise FaultSpecError(f"'{name}' must be {expected}")
        if fields["status"] is None and not fields["delay_ms"]:
            raise FaultSpecError("give a 'status', a 'delay_ms', or both")
        if not isinstance(fields["echo"], bool):
            raise FaultSpecError("'echo' must be true or false")
        # Retry-After is whole seconds on the wire; round up so a client never retries early.
        retry_after = None if fields["retry_after"] is None else math.ceil(fields["retry_after"])
        return cls(spec["vendor"], **{**fields, "delay_ms": int(fields["delay_ms"]), "retry_after": retry_after})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_SPEC_CHECKS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("status", lambda v: v is None or (is_int(v) and 200 <= v <= 599), "an integer HTTP status between 200 and 599"),
    ("count", lambda v: is_int(v) and v >= 1, "an integer >= 1"),
    ("delay_ms", lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    ("retry_after", lambda v: v is None or (_is_number(v) and v >= 0), "a number of seconds >= 0"),
)


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
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
            return replace(fault, count=1)

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
