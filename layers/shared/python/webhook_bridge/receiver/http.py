"""The HTTP face of a receiver: one POST route, and every domain error mapped to one answer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from webhook_bridge.observability import error_fields, logger
from webhook_bridge.receiver.exceptions import MalformedBodyError, ReceiverError
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.secrets import MissingSecretError
from webhook_bridge.signatures import SignatureError


def raw_body(body: str | None, is_base64_encoded: bool) -> bytes:
    """The exact bytes the provider signed: API Gateway base64-encodes non-text bodies."""
    if not body:
        return b""
    if not is_base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedBodyError("body is not valid base64") from exc


def _json(status: int, code: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": code, "message": message},
    )


def build_app(path: str, receiver: Callable[[], Receiver]) -> APIGatewayHttpResolver:
    """``receiver`` is a factory so configuration errors surface as 503s with a log, not import crashes."""
    app = APIGatewayHttpResolver()

    @app.post(path)
    def receive() -> Response:
        event = app.current_event
        handler = receiver()
        if app.lambda_context is not None:
            handler.dedupe.register_lambda_context(app.lambda_context)
        # Case-insensitive: API Gateway lowercases header names, but direct invocations may not.
        signature = event.headers.get(handler.spec.signature_header)
        result = handler.handle(raw_body(event.body, bool(event.is_base64_encoded)), signature)
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=result)

    @app.exception_handler(SignatureError)
    def refused(error: SignatureError) -> Response:
        logger.warning("signature refused", extra={"reason": str(error)})
        return _json(401, "invalid_signature", str(error))

    @app.exception_handler(MissingSecretError)
    def not_configured(error: MissingSecretError) -> Response:
        # Nothing can be verified, so nothing is accepted. 401 rather than 5xx: a scanner hitting
        # an unused provider's route must not page anyone; the provider, if real, keeps retrying.
        logger.error("webhook secret not configured", extra={"secret": error.name})
        return _json(401, "invalid_signature", "signature cannot be verified")

    @app.exception_handler(ReceiverError)
    def receiver_error(error: ReceiverError) -> Response:
        log = logger.error if error.status_code >= 500 else logger.warning
        log("webhook refused", extra={"status": error.status_code, "reason": str(error)})
        return _json(error.status_code, error.code, str(error))

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        # DynamoDB or SQS unavailable, or a bug: the event could not be queued. 503 for every
        # provider, because Typeform retries a 503 for hours but most other 5xx only briefly.
        logger.error("could not queue the event", extra=error_fields(error))
        return _json(503, "queue_unavailable", "could not queue the event; retry later")

    return app
