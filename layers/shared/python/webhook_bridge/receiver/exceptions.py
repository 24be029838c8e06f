"""Domain errors of the receivers; ``http.py`` maps each to one HTTP answer."""

from webhook_bridge.exceptions import BridgeError


class ReceiverError(BridgeError):
    status_code = 400
    code = "bad_request"


class MalformedBodyError(ReceiverError):
    """Not JSON, or JSON of the wrong shape: the provider should not retry it."""

    code = "malformed_body"


class PayloadTooLargeError(ReceiverError):
    status_code = 413
    code = "payload_too_large"


class EventInProgressError(ReceiverError):
    """The same event id is being processed right now; the provider will retry."""

    status_code = 409
    code = "in_progress"


class QueueUnavailableError(ReceiverError):
    """SQS did not accept every message: answer 5xx so the provider retries."""

    status_code = 503
    code = "queue_unavailable"
