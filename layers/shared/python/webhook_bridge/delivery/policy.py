"""What to do after a failed delivery, decided only from its :class:`Failure` (never its text)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from webhook_bridge.delivery.failures import Failure
from webhook_bridge.delivery.retry_state import RetryState

# The least window left for which a vendor's too long Retry-After still gets a last attempt.
LAST_ATTEMPT_MIN_SECONDS = 60.0

IDENTITY_WAIT_MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class Retry:
    delay: float
    throttled: bool


@dataclass(frozen=True)
class DeadLetter:
    reason: str


Outcome = Retry | DeadLetter


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for failures, the vendor's own delay when it gives one.

    Every failure (the vendor's, AWS's, a missing secret, a 401 after a key rotation) is
    retried on this one schedule unless it is permanent. Retrying stops when the next
    attempt would fall outside ``window_seconds`` from the first failure (26 h by default:
    a vendor down for a full day still gets everything), never after a fixed count, so a
    long 429 storm cannot exhaust a message early. A vendor's ``Retry-After`` is honoured
    as asked, longer than ``max_delay`` if need be, up to the window: asked to wait past
    it, the message gets one last attempt when the window ends.
    """

    base_delay: float = 30.0
    max_delay: float = 3600.0
    throttle_default: float = 5.0
    window_seconds: float = 26 * 3600.0
    identity_wait_base: float = 10.0
    identity_wait_window: float = 6 * 3600.0

    def backoff(self, attempts: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        # "Equal jitter": half fixed, half random, so retries spread out but never come back at once.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def decide(self, failure: Failure, state: RetryState, now: float) -> Outcome:
        if not failure.retryable:
            return DeadLetter(reason=failure.describe())
        attempts = state.attempts + 1
        if failure.throttled:
            wait = failure.retry_after if failure.retry_after is not None else self.throttle_default
            delay = max(wait, 0.0) + random.uniform(0, 1.0)
        else:
            delay = max(self.backoff(attempts), failure.retry_after or 0.0)
        first = state.first_attempt_at or now
        remaining = first + self.window_seconds - now
        if failure.retry_after is not None and delay > remaining >= LAST_ATTEMPT_MIN_SECONDS:
            delay = remaining
        if now + delay - first > self.window_seconds:
            return DeadLetter(reason=f"retries exhausted after {attempts} attempts: {failure.describe()}")
        return Retry(delay=delay, throttled=failure.throttled)

    def identity_wait(self, waits: int) -> float | None:
        """How long an action whose email is unknown waits after ``waits`` earlier waits;
        ``None`` once the window is spent (the action is then dead-lettered).

        Doubling from ``identity_wait_base``: the customer event usually lands within
        seconds, and a missing one is retried by Stripe over hours; at most an hour apart,
        so an email learnt late is not left unused for long."""

        def wait(n: int) -> float:
            return min(IDENTITY_WAIT_MAX_SECONDS, self.identity_wait_base * 2**n)

        waited = sum(wait(n) for n in range(waits))
        return wait(waits) if waited + wait(waits) <= self.identity_wait_window else None
