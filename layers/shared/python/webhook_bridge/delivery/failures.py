"""Any exception raised while delivering, reduced to what the retry policy and operators need.

Vendor errors, AWS errors (DynamoDB throttling, Secrets Manager outages, a missing
secret, the idempotency store) and bugs alike become a :class:`Failure`: the error
class, the HTTP status, the vendor's error code, an AWS error code. Never the error's
text: vendors repeat the request (emails, names) in their messages, so nothing of it
goes to a log line, a metric, a message attribute or the DLQ.
"""

from __future__ import annotations

from dataclasses import dataclass

from webhook_bridge.observability import aws_error_code
from webhook_bridge.vendors.exceptions import APIStatusError, AuthenticationError, RateLimitError, VendorError


@dataclass(frozen=True)
class Failure:
    error_class: str  # the exception's class, e.g. AuthenticationError, IdempotencyPersistenceLayerError
    retryable: bool
    status: int | None = None  # the vendor's HTTP status
    code: str | None = None  # the vendor's or AWS's error code, e.g. ProvisionedThroughputExceededException
    retry_after: float | None = None  # seconds the vendor asked us to wait
    throttled: bool = False  # the vendor answered 429
    auth: bool = False  # the vendor refused our credentials (401/403)
    possibly_applied: bool = False  # the call may have taken effect: a retry may repeat it

    def describe(self) -> str:
        """One line for logs, retry state and the DLQ: ``AuthenticationError (HTTP 401, code bad_key)``."""
        details = [f"HTTP {self.status}" if self.status is not None else "", f"code {self.code}" if self.code else ""]
        shown = ", ".join(detail for detail in details if detail)
        return f"{self.error_class} ({shown})" if shown else self.error_class


def classify(error: BaseException) -> Failure:
    if isinstance(error, VendorError):
        status = error.status_code if isinstance(error, APIStatusError) else None
        return Failure(
            error_class=type(error).__name__,
            retryable=error.retryable,
            status=status,
            code=error.code if isinstance(error, APIStatusError) else None,
            retry_after=error.retry_after,
            throttled=isinstance(error, RateLimitError),
            auth=isinstance(error, AuthenticationError),
            possibly_applied=error.possibly_applied,
        )
    # Everything else is on our side of the wire (AWS, configuration, a bug): it may pass,
    # so it is retried on the normal schedule and dead-lettered only when the window ends.
    return Failure(error_class=type(error).__name__, retryable=True, code=aws_error_code(error))
