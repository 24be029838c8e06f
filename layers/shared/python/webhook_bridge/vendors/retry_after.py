"""How long a vendor asked us to wait, from its response headers.

Semantics, in order of precedence (the first header that parses wins):

1. ``Retry-After`` (RFC 9110): delta-seconds, or an HTTP-date turned into seconds from now.
2. ``RateLimit-Reset`` / ``X-RateLimit-Reset`` / ``X-Rate-Limit-Reset`` / ``X-RateLimit-Reset-After``:
   vendors disagree on the unit, so the magnitude decides. A value of at least 1e12 is an
   epoch in milliseconds, at least 1e9 (September 2001) an epoch in seconds, anything
   smaller a delay in seconds. No rate-limit window is anywhere near 31 years long, so the
   two readings never collide. A comma-separated list (several policies) takes the largest.
3. ``RateLimit`` (IETF structured form): ``reset=N`` or ``t=N`` seconds; the largest wins.

A moment in the past means "now" (0 s). Values are capped at 7 days so a garbled header
stays a finite number; the delivery schedule honours the wait up to its retry window.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_SECONDS = 7 * 24 * 3600.0
_EPOCH_MILLIS_FROM = 1e12
_EPOCH_SECONDS_FROM = 1e9
_RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset", "x-ratelimit-reset-after")
_STRUCTURED_RESET = re.compile(r"(?:^|[;,\s])(?:reset|t)\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def _clamp(seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(value: str, *, now: float) -> float | None:
    seconds = _number(value)
    if seconds is not None:
        return _clamp(seconds)
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC without a claim of locality
        moment = moment.replace(tzinfo=UTC)
    return _clamp(moment.timestamp() - now)


def parse_rate_limit_reset(value: str, *, now: float) -> float | None:
    delays = []
    for part in value.split(","):
        number = _number(part)
        if number is None:
            continue
        if number >= _EPOCH_MILLIS_FROM:
            delays.append(number / 1000.0 - now)
        elif number >= _EPOCH_SECONDS_FROM:
            delays.append(number - now)
        else:
            delays.append(number)
    return _clamp(max(delays)) if delays else None


def parse_structured_rate_limit(value: str) -> float | None:
    delays = [float(match) for match in _STRUCTURED_RESET.findall(value)]
    return _clamp(max(delays)) if delays else None


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: float | None = None, rate_limit_headers: bool = True
) -> float | None:
    """Seconds to wait, or ``None`` when the vendor did not say.

    ``headers`` must be case-insensitive (``httpx.Headers``); ``rate_limit_headers=False``
    reads ``Retry-After`` only (for 5xx, where a quota reset says nothing about an outage).
    """
    current = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after:
        parsed = parse_retry_after(retry_after, now=current)
        if parsed is not None:
            return parsed
    if not rate_limit_headers:
        return None
    for name in _RESET_HEADERS:
        raw = headers.get(name)
        if raw:
            parsed = parse_rate_limit_reset(raw, now=current)
            if parsed is not None:
                return parsed
    structured = headers.get("ratelimit")
    return parse_structured_rate_limit(structured) if structured else None
