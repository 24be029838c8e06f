"""One error tree for the four vendor clients.

The delivery layer decides a message's fate from two attributes only:
``retryable`` (try again later, or dead-letter now) and ``retry_after`` (seconds the
vendor asked us to wait, if it said so). Messages never contain secrets or emails, and
the delivery layer still never logs or stores them: it keeps the class, the status and
the vendor's error ``code`` only.
"""

from __future__ import annotations

from webhook_bridge.exceptions import BridgeError


class VendorError(BridgeError):
    """Base of every vendor failure."""

    retryable: bool = False

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message
        # Set by an adapter when the failed call has no idempotency key and may have taken
        # effect anyway (a timeout or 5xx after the vendor stored it): a retry may repeat it.
        self.possibly_applied = False

    @property
    def retry_after(self) -> float | None:
        return None

    @property
    def reason(self) -> str:
        """Short machine-friendly class of failure, e.g. for ``bridgectl preview``."""
        return type(self).__name__


class RequestValidationError(VendorError):
    """The request breaks the vendor's documented rules; rejected before any call."""


class APIConnectionError(VendorError):
    """The vendor could not be reached (DNS, refused, reset, TLS)."""

    retryable = True


class APITimeoutError(APIConnectionError):
    """The vendor did not answer in time."""


class APIStatusError(VendorError):
    """The vendor answered with a non-2xx status."""

    def __init__(
        self,
        vendor: str,
        message: str,
        *,
        status_code: int,
        errors: list[str] | None = None,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(vendor, f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.errors = errors or []
        self._retry_after = retry_after
        self.code = code  # the vendor's machine-readable error code, when its body had one

    @property
    def retry_after(self) -> float | None:
        return self._retry_after


class BadRequestError(APIStatusError):
    """400 / 422: the vendor rejected the payload."""


class AuthenticationError(APIStatusError):
    """401 / 403: credentials are missing, wrong or lack permission.

    Retried: keys get rotated and revoked, and the next attempt reads them again."""

    retryable = True


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409. For Loops with a reused Idempotency-Key this means the work is already done."""


class RateLimitError(APIStatusError):
    """429: wait ``retry_after`` seconds (from Retry-After or the rate-limit headers)."""

    retryable = True


class InternalServerError(APIStatusError):
    """5xx, and 408: the vendor failed; try again with backoff."""

    retryable = True
