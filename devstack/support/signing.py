"""Webhook signatures as the providers compute them, for devstack.send, scripts/make_events.py,
the tests and the benchmarks (tests/unit checks the verifier against stripe-python itself).

- Stripe: ``Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``;
- Typeform: ``Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

# The documented test secrets (docs/mapping.md): `make dev` and events/ use them.
TEST_SECRETS = {"stripe": "whsec_test_webhook_bridge", "typeform": "typeform_test_webhook_bridge"}
SIGNATURE_HEADERS = {"stripe": "Stripe-Signature", "typeform": "Typeform-Signature"}


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def typeform_signature(body: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature(provider: str, body: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
    """The signature header's value for ``provider`` (the test secret unless given one)."""
    key = secret if secret is not None else TEST_SECRETS[provider]
    if provider == "stripe":
        return stripe_signature(body, key, timestamp)
    return typeform_signature(body, key)


def signed_headers(
    provider: str, body: bytes, secret: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The headers of a signed JSON webhook from ``provider``."""
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADERS[provider]: signature(provider, body, secret, timestamp),
    }


def signature_matches(provider: str, body: bytes, header: str, secret: str | None = None) -> bool:
    """Whether ``header`` signs ``body`` for ``provider`` (a Stripe one at most five minutes old): the
    bare check of the benchmarks' baselines, which must not load the bridge's own verifier."""
    key = secret if secret is not None else TEST_SECRETS[provider]
    if provider != "stripe":
        return hmac.compare_digest(typeform_signature(body, key), header)
    stamp = int(dict(part.split("=", 1) for part in header.split(",")).get("t", "0"))
    return abs(time.time() - stamp) <= 300 and hmac.compare_digest(stripe_signature(body, key, stamp), header)
