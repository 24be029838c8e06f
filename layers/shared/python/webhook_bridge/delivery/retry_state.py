"""A message's retry history, carried in SQS message attributes across re-enqueues.

Retries are new messages (sent with a delay) rather than SQS redeliveries, so the
queue's receive count, and with it the DLQ redrive, only counts crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


def _number(attributes: dict[str, Any], name: str) -> float | None:
    entry = attributes.get(name) or {}
    value = entry.get("stringValue") if isinstance(entry, dict) else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryState:
    attempts: int = 0  # vendor calls already made and failed
    identity_waits: int = 0  # times we waited for an email to become known
    first_attempt_at: float | None = None
    not_before: float | None = None
    enqueued_at: float | None = None  # when the receiver first queued the action
    last_error: str | None = None

    @classmethod
    def from_attributes(cls, attributes: dict[str, Any]) -> RetryState:
        if "failed_at" in attributes:
            # Moved back from the DLQ as it was (SQS StartMessageMoveTask keeps attributes; our own
            # redrive drops them): an operator redrove it, so it gets a fresh retry budget.
            return cls(enqueued_at=_number(attributes, "enqueued_at"))
        error = (attributes.get("last_error") or {}).get("stringValue")
        return cls(
            attempts=int(_number(attributes, "attempts") or 0),
            identity_waits=int(_number(attributes, "identity_waits") or 0),
            first_attempt_at=_number(attributes, "first_attempt_at"),
            not_before=_number(attributes, "not_before"),
            enqueued_at=_number(attributes, "enqueued_at"),
            last_error=error,
        )

    def after_failure(self, now: float, delay: float, error: str) -> RetryState:
        return replace(
            self,
            attempts=self.attempts + 1,
            first_attempt_at=self.first_attempt_at or now,
            not_before=now + delay,
            last_error=error[:250],
        )

    def deferred(self, now: float, delay: float) -> RetryState:
        """Try again later without counting a failed attempt."""
        return replace(self, not_before=now + delay)

    def waiting_for_identity(self, now: float, delay: float) -> RetryState:
        return replace(self.deferred(now, delay), identity_waits=self.identity_waits + 1)

    def to_sqs_attributes(self) -> dict[str, dict[str, str]]:
        """Attributes in the shape ``SendMessage`` takes."""
        numbers = {
            "attempts": self.attempts,
            "identity_waits": self.identity_waits,
            "first_attempt_at": self.first_attempt_at,
            "not_before": self.not_before,
            "enqueued_at": self.enqueued_at,
        }
        attributes = {
            name: {"DataType": "Number", "StringValue": f"{value:.3f}" if isinstance(value, float) else str(value)}
            for name, value in numbers.items()
            if value is not None
        }
        if self.last_error:
            attributes["last_error"] = {"DataType": "String", "StringValue": self.last_error}
        return attributes
