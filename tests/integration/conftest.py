"""The real Lambda handlers, wired to moto queues and tables, invoked as Lambda would."""

from __future__ import annotations

import base64
import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import respx

from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE, FakeAws, LambdaContextStub
from webhook_bridge.ops.queues import LOGICAL_IDS
from webhook_bridge.vendors_enum import Vendor

ROOT = Path(__file__).resolve().parents[2]
STRIPE_SECRET = "whsec_integration"
TYPEFORM_SECRET = "typeform_integration"

VENDOR_ENV = {
    "CONVERTLOOP_APP_ID": "app-1",
    "CONVERTLOOP_API_KEY": "cl-key",
    "CONVERTLOOP_BASE_URL": "https://convertloop.test/v1",
    "LOOPS_API_KEY": "loops-key",
    "LOOPS_BASE_URL": "https://loops.test/api/v1",
    "CUSTOMERIO_SITE_ID": "site-1",
    "CUSTOMERIO_API_KEY": "cio-key",
    "CUSTOMERIO_BASE_URL": "https://cio.test/api/v1",
    "SEGMETRICS_ACCOUNT_ID": "acct",
    "SEGMETRICS_INTEGRATION_ID": "integ",
    "SEGMETRICS_API_KEY": "sm-key",
    "SEGMETRICS_BASE_URL": "https://segmetrics.test/api/v1",
}
# Where the vendor clients are pointed (VENDOR_ENV), SegMetrics with its account and integration.
BASES = {
    Vendor.CONVERTLOOP: VENDOR_ENV["CONVERTLOOP_BASE_URL"],
    Vendor.LOOPS: VENDOR_ENV["LOOPS_BASE_URL"],
    Vendor.CUSTOMERIO: VENDOR_ENV["CUSTOMERIO_BASE_URL"],
    Vendor.SEGMETRICS: f"{VENDOR_ENV['SEGMETRICS_BASE_URL']}/acct/integ",
}


@pytest.fixture
def vendors() -> Iterator[respx.MockRouter]:
    """Every vendor answering 200, every request recorded."""
    with respx.mock(assert_all_called=False) as mock:
        for vendor, base in BASES.items():
            mock.route(url__startswith=base, name=vendor.value).respond(
                200, json={"success": True, "status": "success"}
            )
        yield mock


def load_function(name: str) -> ModuleType:
    """Each function's app.py under its own module name, as separate Lambdas would hold them."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"fn_{name}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def api_event(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "routeKey": f"POST {path}",
            "stage": "$default",
            "requestId": str(uuid.uuid4()),
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def stripe_headers(body: bytes, secret: str = STRIPE_SECRET) -> dict[str, str]:
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=int(time.time()))
    return {"Content-Type": "application/json", "Stripe-Signature": header}


def typeform_headers(body: bytes, secret: str = TYPEFORM_SECRET) -> dict[str, str]:
    import hashlib
    import hmac

    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "Typeform-Signature": f"sha256={digest}"}


class Bridge:
    """The deployed application in miniature: receivers, queues, per-vendor delivery."""

    def __init__(self, aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> None:
        self.aws = aws
        self.monkeypatch = monkeypatch
        # Named as CloudFormation names them, so bridgectl finds them by stack name.
        self.queues = {
            vendor: aws.create_queue_pair(f"bridge-{logical}Queue-X1", f"bridge-{logical}DeadLetterQueue-X2")
            for vendor, logical in LOGICAL_IDS.items()
        }
        monkeypatch.setenv("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
        monkeypatch.setenv("STATE_TABLE", STATE_TABLE)
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
        monkeypatch.setenv("TYPEFORM_WEBHOOK_SECRET", TYPEFORM_SECRET)
        monkeypatch.delenv("ENABLED_VENDORS", raising=False)
        for vendor, (queue, _) in self.queues.items():
            monkeypatch.setenv(f"{vendor.env_prefix}_QUEUE_URL", queue)
        for name, value in VENDOR_ENV.items():
            monkeypatch.setenv(name, value)
        self._reset_caches()
        self.stripe = load_function("stripe_webhook")
        self.typeform = load_function("typeform_webhook")
        self.delivery = load_function("delivery")

    @staticmethod
    def _reset_caches() -> None:
        from webhook_bridge.delivery.factory import build_processor
        from webhook_bridge.receiver.factory import build_receiver
        from webhook_bridge.settings import delivery_settings, receiver_settings
        from webhook_bridge.vendors import registry

        for cached in (build_processor, build_receiver, delivery_settings, receiver_settings):
            cached.cache_clear()
        registry.forget_client()

    def post(self, provider: str, payload: dict[str, Any] | bytes, sign: Callable[..., dict[str, str]] | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        headers = (sign or (stripe_headers if provider == "stripe" else typeform_headers))(body)
        handler = self.stripe if provider == "stripe" else self.typeform
        response = handler.lambda_handler(api_event(f"/webhooks/{provider}", body, headers), LambdaContextStub())
        return response["statusCode"], json.loads(response["body"])

    def drain(self, vendor: Vendor, max_rounds: int = 5) -> list[dict[str, Any]]:
        """Run the vendor's delivery function over its queue like the SQS event source does."""
        queue, dlq = self.queues[vendor]
        self.monkeypatch.setenv("VENDOR", vendor.value)
        self.monkeypatch.setenv("QUEUE_URL", queue)
        self.monkeypatch.setenv("DLQ_URL", dlq)
        self._reset_caches()
        responses = []
        for _ in range(max_rounds):
            messages = self.aws.sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                break
            event = {"Records": [sqs_record(m, queue) for m in messages]}
            response = self.delivery.lambda_handler(event, LambdaContextStub())
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.aws.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            responses.append(response)
        return responses


def sqs_record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:" + queue_url.rsplit("/", 1)[-1],
        "awsRegion": "us-east-1",
    }


@pytest.fixture
def bridge(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    return Bridge(aws, monkeypatch)
