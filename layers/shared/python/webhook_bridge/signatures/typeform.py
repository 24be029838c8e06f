"""Typeform's ``Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>``.

Typeform signs no timestamp, so replays are caught by event-id deduplication instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from webhook_bridge.signatures.exceptions import InvalidSignatureError, MissingSignatureError

_PREFIX = "sha256="


def verify_typeform_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], *, tolerance: int | None = None
) -> None:
    """``tolerance`` is accepted for a uniform interface; Typeform signs no timestamp to check."""
    if not header or not header.strip().startswith(_PREFIX):
        raise MissingSignatureError("missing or malformed Typeform-Signature header")
    candidate = header.strip()[len(_PREFIX) :].encode()
    matched = False
    for secret in secrets:
        if secret:
            digest = base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest())
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise InvalidSignatureError("no Typeform signature matches the payload")
