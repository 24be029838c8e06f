"""The real Lambda handlers, wired to moto queues and tables, invoked as Lambda would."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import respx

from devstack.support.events import http_api_event, queue_arn, sqs_batch
from devstack.support.handlers import forget_cold_start, load_function
from devstack.support.lambda_context import LambdaContext
from devstack.support.signing import signed_headers
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE, FakeAws
from webhook_bridge.vendors.catalog import Vendor, specs

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
    Vendor("convertloop"): VENDOR_ENV["CONVERTLOOP_BASE_URL"],
    Vendor("loops"): VENDOR_ENV["LOOPS_BASE_URL"],
    Vendor("customerio"): VENDOR_ENV["CUSTOMERIO_BASE_URL"],
    Vendor("segmetrics"): f"{VENDOR_ENV['SEGMETRICS_BASE_URL']}/acct/integ",
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


def post_headers(provider: str, body: bytes) -> dict[str, str]:
    return signed_headers(provider, body, STRIPE_SECRET if provider == "stripe" else TYPEFORM_SECRET)


class Bridge:
    """The deployed application in miniature: receivers, queues, per-vendor delivery."""

    def __init__(self, aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> None:
        self.aws = aws
        self.monkeypatch = monkeypatch
        # Named as CloudFormation names them, so bridgectl finds them by stack name.
        self.queues = {
            Vendor(spec.name): aws.create_queue_pair(
                f"bridge-{spec.logical_id}Queue-X1", f"bridge-{spec.logical_id}DeadLetterQueue-X2"
            )
            for spec in specs()
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
        forget_cold_start()
        self.stripe = load_function("stripe_webhook")
        self.typeform = load_function("typeform_webhook")
        self.delivery = load_function("delivery")

    def post(self, provider: str, payload: dict[str, Any] | bytes, sign: Callable[..., dict[str, str]] | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        headers = (sign or partial(post_headers, provider))(body)
        handler = self.stripe if provider == "stripe" else self.typeform
        response = handler.lambda_handler(http_api_event(f"/webhooks/{provider}", body, headers), LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def drain(self, vendor: Vendor, max_rounds: int = 5) -> list[dict[str, Any]]:
        """Run the vendor's delivery function over its queue like the SQS event source does."""
        queue, dlq = self.queues[vendor]
        self.monkeypatch.setenv("VENDOR", vendor.value)
        self.monkeypatch.setenv("QUEUE_URL", queue)
        self.monkeypatch.setenv("DLQ_URL", dlq)
        forget_cold_start()
        responses = []
        for _ in range(max_rounds):
            messages = self.aws.sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                break
            event = sqs_batch(messages, queue_arn(queue))
            response = self.delivery.lambda_handler(event, LambdaContext())
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.aws.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            responses.append(response)
        return responses


@pytest.fixture
def bridge(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    return Bridge(aws, monkeypatch)
