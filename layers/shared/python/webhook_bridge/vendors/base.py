"""What every vendor client shares: one HTTP connection pool, auth, and error mapping.

Modelled on openai-python / stripe-python: a small base client that builds the URL from
the documented API root plus the documented path, sends one request, and turns any
failure into one class of :mod:`webhook_bridge.vendors.exceptions` (a failed response through
:mod:`webhook_bridge.vendors.error_mapping`). Vendor clients only describe endpoints and
bodies.

Pacing is not decided here either, but it is applied here: ``before_request`` (optional,
e.g. the delivery layer's rate-limit pacer) is called right before every HTTP request is
sent, once per request, whatever its outcome. An adapter may make two requests for one
action (identify, then track), and each one counts against the vendor's rate limit.

There is deliberately NO retry loop here. Each message on a vendor's SQS queue is one
attempt; the delivery layer decides, from ``retryable`` and ``retry_after``, when to try
again (visibility timeout with backoff and jitter, then the DLQ). Retrying inside the
client would multiply attempts, hold the Lambda while it sleeps, and hide throttling
from the policy that must respect it.

Nothing this module raises or logs carries a secret, an ``Authorization`` header or a
raw email: routes are logged and traced as templates (``/customers/{id}``), vendor-provided text is
redacted and masked, httpx's own request log line is masked, and httpx exceptions
(whose request holds the auth header) are not chained.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from webhook_bridge.observability import vendor_call
from webhook_bridge.privacy import mask_text
from webhook_bridge.vendors.error_mapping import redact, status_error
from webhook_bridge.vendors.exceptions import APIConnectionError, APITimeoutError, RequestValidationError

logger = logging.getLogger(__name__)


class _MaskEmailsFilter(logging.Filter):
    """httpx logs every request at INFO with its full URL, and our URLs can hold an email
    (Customer.io ids, SegMetrics contact paths, Loops ``find?email=``). Mask them there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message.replace("%40", "@"))
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def _install_log_masking() -> None:
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(f, _MaskEmailsFilter) for f in httpx_logger.filters):
        httpx_logger.addFilter(_MaskEmailsFilter())


_install_log_masking()

# Connect fast (an unreachable vendor should free the Lambda quickly), read patiently
# (vendors may be slow under load); well within the delivery function's timeout.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0, pool=3.0)
# Keep-alive shorter than the usual 60 s idle timeout of vendor load balancers, so a
# connection frozen with the Lambda is not reused after the server dropped it.
DEFAULT_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=30.0)
USER_AGENT = "webhook-bridge/0.1 (+httpx)"

_shared_http: httpx.Client | None = None
_shared_http_lock = threading.Lock()


def shared_http_client() -> httpx.Client:
    """The process-wide client: created on first use, reused across invocations."""
    global _shared_http
    client = _shared_http
    if client is None or client.is_closed:
        with _shared_http_lock:
            client = _shared_http
            if client is None or client.is_closed:
                client = httpx.Client(
                    timeout=DEFAULT_TIMEOUT,
                    limits=DEFAULT_LIMITS,
                    follow_redirects=False,  # a redirect would resend credentials elsewhere
                    headers={"User-Agent": USER_AGENT},
                )
                _shared_http = client
    return client


def close_shared_http_client() -> None:
    global _shared_http
    with _shared_http_lock:
        if _shared_http is not None:
            _shared_http.close()
        _shared_http = None


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def encode_path_segment(value: str | int) -> str:
    """One path segment, fully percent-encoded (``@`` -> ``%40``, ``/`` -> ``%2F``)."""
    return quote(str(value), safe="")


class BaseClient:
    """One vendor's API root, credentials and error mapping over the shared pool."""

    vendor: ClassVar[str] = "vendor"

    def __init__(
        self,
        *,
        base_url: str,
        auth_header: str,
        secrets: Iterable[str] = (),
        http: httpx.Client | None = None,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        if not base_url:
            raise ValueError(f"{self.vendor}: base_url is empty")
        self.base_url = base_url.rstrip("/")
        self._auth_header = auth_header
        # Everything that must never appear in an error message, even if the vendor echoes it.
        self._secrets = tuple(s for s in (*secrets, auth_header, auth_header.partition(" ")[2]) if len(s) >= 4)
        self._http = http
        # Called with no argument right before each request is sent (its result is ignored);
        # may block (a pacer waiting for a token) or raise (nothing is sent then).
        self.before_request = before_request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def http(self) -> httpx.Client:
        return self._http if self._http is not None else shared_http_client()

    # -- request -----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, str | int | None] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> httpx.Response:
        """Send one request to ``base_url + route`` and return the 2xx response.

        ``route`` is the documented path with ``{placeholders}``; it is what errors and
        logs show, so identifiers (often emails) filled in from ``path_params`` never are.
        """
        path = route.format(**{k: encode_path_segment(v) for k, v in (path_params or {}).items()})
        url = (base_url.rstrip("/") if base_url else self.base_url) + path
        request_headers = {"Authorization": self._auth_header, "Accept": "application/json"}
        content: bytes | None = None
        if body is not None:
            content = self._encode_json(body, method, route)
            request_headers["Content-Type"] = "application/json"
        request_headers.update(headers or {})
        query = {k: v for k, v in (params or {}).items() if v is not None}

        if self.before_request is not None:
            self.before_request()
        started = time.perf_counter()
        try:
            with vendor_call(self.vendor, method, route) as record_status:
                response = self.http.request(method, url, params=query, content=content, headers=request_headers)
                record_status(response.status_code)
        except httpx.TimeoutException as exc:
            logger.debug("%s %s %s timed out (%s)", self.vendor, method, route, type(exc).__name__)
            raise APITimeoutError(self.vendor, f"{method} {route} timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            logger.debug("%s %s %s failed (%s)", self.vendor, method, route, type(exc).__name__)
            detail = self._redact(str(exc))
            raise APIConnectionError(self.vendor, f"{method} {route} failed: {type(exc).__name__}: {detail}") from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug("%s %s %s -> %s in %.0f ms", self.vendor, method, route, response.status_code, elapsed_ms)
        if response.is_success:
            return response
        raise status_error(self.vendor, f"{method} {route}", response, self._secrets)

    def _encode_json(self, body: Any, method: str, route: str) -> bytes:
        try:
            return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            reason = f"{method} {route}: body is not JSON ({type(exc).__name__})"
            raise RequestValidationError(self.vendor, reason) from None

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        """The parsed body of a 2xx response, or ``None`` when it is empty or not JSON."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    # -- errors ------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)
