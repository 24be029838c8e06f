"""Webhook signature checks on the raw body, one module per provider."""

from webhook_bridge.signatures.exceptions import (
    InvalidSignatureError,
    MissingSignatureError,
    SignatureError,
    StaleTimestampError,
)

__all__ = ["InvalidSignatureError", "MissingSignatureError", "SignatureError", "StaleTimestampError"]
