"""Why a webhook was refused. Messages are safe to return to the caller: no secrets."""

from webhook_bridge.exceptions import BridgeError


class SignatureError(BridgeError):
    """The request is not proven to come from the provider."""


class MissingSignatureError(SignatureError):
    """No signature header, or one without any usable signature."""


class InvalidSignatureError(SignatureError):
    """No signature matches the body with any configured secret."""


class StaleTimestampError(SignatureError):
    """The signed timestamp is outside the tolerance: a replay or a badly skewed clock."""
