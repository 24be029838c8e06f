"""Events as Lambda hands them to a function: API Gateway HTTP API (payload 2.0) and SQS.

The HTTP API event is built by the emulator's own translation (``devstack.http_event``), as if
the request had come in over HTTP; SQS records follow Lambda's SQS event source mapping.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from devstack.support.lambda_context import ACCOUNT_ID, REGION
from devstack.support.signing import signed_headers

API_ID = "abcdef1234"


def http_api_event(
    path: str,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    time_epoch_ms: int | None = None,
    api_id: str = API_ID,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """The event of ``POST path`` with ``body``, through an HTTPS custom domain's API Gateway.

    The body is text when its content type is textual and UTF-8, as API Gateway passes it;
    ``base64_encoded`` forces base64, as API Gateway does for binary types."""
    from devstack.http_event import ApiContext, HttpRequest, build_event, new_request_id
    from devstack.template import Route

    raw = body.encode() if isinstance(body, str) else body
    sent = dict(headers or {})
    sent.setdefault("host", f"{api_id}.execute-api.{REGION}.amazonaws.com")
    request = HttpRequest(
        "POST", path, headers=tuple(sent.items()), body=raw, source_ip=source_ip, scheme="https", server_port=443
    )
    context = ApiContext(
        api_id=api_id,
        account_id=ACCOUNT_ID,
        request_id=request_id or new_request_id(),
        time_epoch_ms=int(time.time() * 1000) if time_epoch_ms is None else time_epoch_ms,
    )
    event = build_event(request, Route("POST", path, "Function", api_id), context)
    if base64_encoded and not event["isBase64Encoded"]:
        event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
    return event


def webhook_event(
    provider: str,
    body: bytes,
    secret: str | None = None,
    *,
    timestamp: int | None = None,
    headers: Mapping[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A signed webhook from ``provider`` to ``/webhooks/<provider>`` (the test secret unless given one)."""
    sent = {**signed_headers(provider, body, secret, timestamp), **(headers or {})}
    return http_api_event(f"/webhooks/{provider}", body, sent, **options)


# -- SQS -------------------------------------------------------------------------------


def queue_arn(queue_url: str, region: str = REGION, account_id: str = ACCOUNT_ID) -> str:
    return f"arn:aws:sqs:{region}:{account_id}:" + queue_url.rsplit("/", 1)[-1]


def sqs_message(body: str, message_attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A message as ReceiveMessage returns it, received for the first time just now."""
    now_ms = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": base64.b64encode(os.urandom(48)).decode(),
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now_ms,
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "MessageAttributes": dict(message_attributes or {}),
        "MD5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage result."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


def sqs_batch(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """What the SQS event source hands a function for these ReceiveMessage results."""
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def sqs_event(
    *bodies: str, queue: str = "queue", message_attributes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the SQS event source hands a function for messages just sent with ``bodies``."""
    return sqs_batch((sqs_message(body, message_attributes) for body in bodies), queue_arn(queue))


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """SQS's {StringValue, DataType} becomes Lambda's {stringValue, …, dataType}; binaries as base64."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues", [])]
    attribute["dataType"] = value["DataType"]
    return attribute


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
