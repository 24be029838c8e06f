"""A vendor's failed response as one class of the error tree (:mod:`.errors`).

The status decides the class (and so whether the delivery layer retries); the body gives
the reasons and the vendor's error code; the headers give ``retry_after`` for a throttled
or failing vendor. Vendors echo requests in their error texts, so every reason is cut,
stripped of the client's secrets and masked before it is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

from webhook_bridge.privacy import mask_text
from webhook_bridge.vendors.exceptions import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from webhook_bridge.vendors.retry_after import retry_after_from_headers

MAX_ERROR_MESSAGES = 20
MAX_ERROR_CHARS = 300
# A vendor's error code is kept only when it looks like one: a short identifier, never free text.
_ERROR_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    422: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    408: InternalServerError,  # the vendor gave up waiting for us: transient
}


def error_class_for(status_code: int) -> type[APIStatusError]:
    if status_code in _STATUS_ERRORS:
        return _STATUS_ERRORS[status_code]
    if status_code >= 500:
        return InternalServerError
    return APIStatusError  # other 3xx/4xx: permanent, not retried


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets`` and with its email addresses masked."""
    for secret in secrets:
        text = text.replace(secret, "***")
    # URL-encoded addresses (``jane%40example.com``) are masked like plain ones.
    return mask_text(text.replace("%40", "@"))


def status_error(vendor: str, request: str, response: httpx.Response, secrets: tuple[str, ...]) -> APIStatusError:
    """The error for a non-2xx ``response`` to ``request`` (``"METHOD /route"``); ``secrets``
    never appear in it, even when the vendor echoes them."""
    status = response.status_code
    error_class = error_class_for(status)
    errors = _error_messages(response, secrets)
    summary = "; ".join(errors) or response.reason_phrase
    retry_after = None
    if error_class is RateLimitError:
        retry_after = retry_after_from_headers(response.headers)
    elif error_class is InternalServerError:
        retry_after = retry_after_from_headers(response.headers, rate_limit_headers=False)
    return error_class(
        vendor,
        f"{request}: {summary[:MAX_ERROR_CHARS]}",
        status_code=status,
        errors=errors,
        retry_after=retry_after,
        code=_error_code(response),
    )


def _error_messages(response: httpx.Response, secrets: tuple[str, ...]) -> list[str]:
    """The vendor's reasons, e.g. SegMetrics' ``{"status": "error", "errors": [...]}``."""
    try:
        payload = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        # An HTML error page is noise; plain text is usually the reason.
        return [redact(text[:MAX_ERROR_CHARS], secrets)] if text and not text.startswith("<") else []
    messages = [redact(m[:MAX_ERROR_CHARS], secrets) for m in _messages_from(payload) if m]
    return messages[:MAX_ERROR_MESSAGES]


def _messages_from(payload: Any) -> list[str]:
    """Reasons from the usual JSON error shapes: ``errors`` (list or field map), ``message``, ``error``, ``detail``."""
    if isinstance(payload, list):
        return [_as_text(item) for item in payload]
    if not isinstance(payload, dict):
        return [_as_text(payload)] if payload is not None else []
    errors = payload.get("errors")
    if isinstance(errors, list):
        return [_as_text(item) for item in errors]
    if isinstance(errors, dict):
        return [f"{field}: {_as_text(reason)}" for field, reason in errors.items()]
    for key in ("message", "error", "detail", "error_message"):
        value = payload.get(key)
        if isinstance(value, dict):
            return _messages_from(value)
        if value:
            return [_as_text(value)]
    return []


def _error_code(response: httpx.Response) -> str | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return _code_from(payload)


def _code_from(payload: Any) -> str | None:
    """``{"code": …}``, ``{"error_code": …}``, ``{"type": …}``, or the same inside ``error``/``meta``."""
    if not isinstance(payload, dict):
        return None
    for key in ("code", "error_code", "errorCode", "type"):
        value = payload.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and _ERROR_CODE.match(str(value)):
            return str(value)
    for key in ("error", "meta"):
        code = _code_from(payload.get(key))
        if code:
            return code
    return None


def _as_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("message", "detail", "error", "reason"):
            if isinstance(item.get(key), str):
                field = item.get("field") or item.get("param") or item.get("path")
                return f"{field}: {item[key]}" if isinstance(field, str) else item[key]
    if isinstance(item, list):
        return ", ".join(_as_text(i) for i in item)
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)  # parsed JSON: always serializable
