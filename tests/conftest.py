"""Shared fixtures: fake AWS (moto), the bridge's tables and one vendor's queues."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.atomic_dynamodb import make_dynamodb_requests_atomic

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "WebhookBridge")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "webhook-bridge")

make_dynamodb_requests_atomic()  # tests race deliveries on purpose, as DynamoDB would serve them

IDEMPOTENCY_TABLE = "test-idempotency"
STATE_TABLE = "test-state"


@dataclass
class FakeAws:
    sqs: Any
    dynamodb: Any

    def create_queue_pair(self, name: str, dlq_name: str | None = None) -> tuple[str, str]:
        dlq = self.sqs.create_queue(QueueName=dlq_name or f"{name}-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = self.sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}'},
        )["QueueUrl"]
        return queue, dlq

    def receive_all(self, url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)

    def count(self, url: str, attribute: str = "ApproximateNumberOfMessages") -> int:
        return int(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName=STATE_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield FakeAws(sqs=boto3.client("sqs"), dynamodb=dynamodb)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Any:
    """Everything the bridge logged so far, extra fields included, as one text to search.

    botocore's own DEBUG lines (request bodies) are left out: Lambda runs at INFO."""
    caplog.set_level("INFO")
    for name in ("webhook-bridge", "webhook_bridge", "httpx"):
        caplog.set_level("DEBUG", logger=name)

    def text() -> str:
        return "\n".join(json.dumps(vars(record), default=str, ensure_ascii=False) for record in caplog.records)

    return text
