"""The receivers' metrics as CloudWatch reads them (EMF on stdout): the dashboard's dimensions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Bridge
from webhook_bridge.observability import metrics


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = (line for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
    return [blob for blob in map(json.loads, lines) if "_aws" in blob]


def counted(blob: dict[str, Any]) -> tuple[list[set[str]], list[tuple[str, str, list[float]]]]:
    """The dimension sets, and each metric's name, unit and values."""
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    measured = [(metric["Name"], metric["Unit"], blob[metric["Name"]]) for metric in directive["Metrics"]]
    return [set(names) for names in directive["Dimensions"]], measured


def test_each_invocation_counts_under_its_own_provider(bridge: Bridge, capsys: pytest.CaptureFixture[str]) -> None:
    customer = {"id": "cus_m", "object": "customer", "email": "ada@example.com"}
    received = {"id": "evt_m0", "type": "customer.created", "created": 1, "data": {"object": customer}}
    ignored = {"id": "evt_m1", "type": "payout.paid", "created": 1, "data": {"object": {}}}
    unmappable = {"id": "evt_m2", "type": "payout.paid", "data": {"object": {}}}  # no "created"
    metrics.clear_metrics()  # counted by earlier tests that call the receiver without its handler
    capsys.readouterr()
    assert bridge.post("stripe", received)[0] == 200
    assert bridge.post("stripe", ignored)[0] == 200
    forged = {"Typeform-Signature": "sha256=x"}
    assert bridge.post("typeform", b'{"event_id": "e1"}', sign=lambda body: forged)[0] == 401
    assert bridge.post("stripe", unmappable)[0] == 400

    blobs = emitted(capsys)
    assert {(blob["_aws"]["CloudWatchMetrics"][0]["Namespace"], blob["service"]) for blob in blobs} == {
        ("WebhookBridge", "webhook-bridge")
    }
    by_dimensions = [
        (counted(blob), blob.get("provider"), blob.get("event_type"), blob.get("reason")) for blob in blobs
    ]
    one = "Count", [1.0]
    assert by_dimensions == [
        # Per provider and event type or refusal reason, then the invocation's own flush per provider.
        (([{"service", "provider", "event_type"}], [("WebhookReceived", *one)]), "stripe", "customer.created", None),
        (([{"service", "provider"}], [("WebhookReceived", *one)]), "stripe", None, None),
        (([{"service", "provider", "event_type"}], [("WebhookIgnored", *one)]), "stripe", "payout.paid", None),
        (([{"service", "provider"}], [("WebhookIgnored", *one)]), "stripe", None, None),
        (([{"service", "provider", "reason"}], [("WebhookRefused", *one)]), "typeform", None, "signature"),
        (([{"service", "provider"}], [("WebhookRefused", *one)]), "typeform", None, None),
        (([{"service", "provider", "reason"}], [("WebhookRefused", *one)]), "stripe", None, "malformed_body"),
        (([{"service", "provider"}], [("WebhookRefused", *one)]), "stripe", None, None),
    ]


def test_the_eventbridge_consumer_counts_under_the_stripe_provider(
    bridge: Bridge, capsys: pytest.CaptureFixture[str]
) -> None:
    # The dashboard's per-provider widgets read {service, provider}: the webhook's dimensions.
    from devstack.support.handlers import load_function
    from devstack.support.lambda_context import LambdaContext
    from tests.integration.test_eventbridge import sqs_event
    from webhook_bridge.receiver.eventbridge import envelope_for

    customer = {"id": "cus_e", "object": "customer", "email": "ada@example.com"}
    received = {"id": "evt_e0", "type": "customer.created", "created": 1, "data": {"object": customer}}
    metrics.clear_metrics()
    capsys.readouterr()
    event = sqs_event(envelope_for(received), "not json")
    assert load_function("stripe_eventbridge").lambda_handler(event, LambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]
    }
    per_provider = [blob for blob in emitted(capsys) if counted(blob)[0] == [{"service", "provider"}]]
    assert [(blob["provider"], blob.get("WebhookReceived"), blob.get("WebhookRefused")) for blob in per_provider] == [
        ("stripe", [1.0], [1.0])
    ]
