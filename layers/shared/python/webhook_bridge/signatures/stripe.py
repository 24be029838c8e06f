"""Stripe's ``Stripe-Signature`` scheme: ``t=<unix>,v1=<hex>,v1=<hex>,v0=<hex>``.

HMAC-SHA256 of ``"<t>.<raw body>"`` with the endpoint secret. During a secret roll
Stripe sends one ``v1`` per active secret, and operators may configure the old and the
new secret (comma-separated), so any configured secret matching any ``v1`` passes.
``v0`` is a test-mode legacy scheme and is ignored. Written by hand rather than with
stripe-python so the receiver's cold start does not import the whole SDK.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

from webhook_bridge.signatures.exceptions import InvalidSignatureError, MissingSignatureError, StaleTimestampError

DEFAULT_TOLERANCE_SECONDS = 300
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise MissingSignatureError("Stripe-Signature has a malformed timestamp") from exc
        elif key == "v1" and _HEX_SHA256.fullmatch(value.strip()):
            # Anything else cannot be an HMAC-SHA256 digest; skipping it keeps forged
            # headers (non-hex, non-ASCII) away from the comparison.
            signatures.append(value.strip().lower())
    if timestamp is None:
        raise MissingSignatureError("Stripe-Signature has no timestamp")
    if not signatures:
        raise MissingSignatureError("Stripe-Signature has no v1 signature")
    return timestamp, signatures


def verify_stripe_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Return the signed timestamp, or raise a ``SignatureError``."""
    if not header:
        raise MissingSignatureError("missing Stripe-Signature header")
    timestamp, signatures = _parse_header(header)
    signed = str(timestamp).encode() + b"." + payload
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets if secret]
    # Compare every pair so the time taken does not reveal which one matched.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    if not matched:
        raise InvalidSignatureError("no Stripe signature matches the payload")
    current = time.time() if now is None else now
    if tolerance > 0 and abs(current - timestamp) > tolerance:
        raise StaleTimestampError("Stripe signature timestamp is outside the tolerance")
    return timestamp
