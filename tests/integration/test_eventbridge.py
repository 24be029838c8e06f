"""Stripe through Amazon EventBridge: the events/eventbridge envelopes through the real consumer.

The consumer shares the webhook receiver's path after the signature check, so it must produce
exactly the calls the webhook produces, and share its deduplication with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devstack.support.events import sqs_event as support_sqs_event
from devstack.support.handlers import load_function
from devstack.support.lambda_context import LambdaContext
from tests.integration.conftest import Bridge
from tests.integration.test_events import EVENTS, STRIPE_EMAIL, assert_documented, calls_since
from webhook_bridge.providers.stripe.mapper import THIN_EVENT_IGNORED
from webhook_bridge.receiver.eventbridge import envelope_for
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors


def sqs_event(*bodies: Any) -> dict[str, Any]:
    """What the SQS event source hands the consumer: the rule put each envelope as a message body."""
    return support_sqs_event(*(body if isinstance(body, str) else json.dumps(body) for body in bodies))


@pytest.fixture
def consumer(bridge: Bridge) -> Any:
    return load_function("stripe_eventbridge")


def queued(bridge: Bridge) -> dict[Vendor, int]:
    return {vendor: bridge.aws.count(queue) for vendor, (queue, _) in bridge.queues.items()}


@pytest.mark.parametrize("version", sorted(p.name for p in (EVENTS / "eventbridge").iterdir()))
def test_every_eventbridge_sample_produces_the_calls_of_its_webhook(bridge: Bridge, consumer, vendors, version):
    paths = sorted((EVENTS / "eventbridge" / version).glob("*.json"), key=_created)
    for path in paths:
        response = consumer.lambda_handler(sqs_event(json.loads(path.read_text())), LambdaContext())
        assert response == {"batchItemFailures": []}, path.name
        start = len(vendors.calls)
        for vendor in known_vendors():
            bridge.drain(vendor)
        assert_documented(calls_since(vendors, start), path.stem, STRIPE_EMAIL)


def test_an_event_sent_both_ways_is_queued_once(bridge: Bridge, consumer):
    event = json.loads((EVENTS / "eventbridge/2025-09-30.clover/customer.created.json").read_text())["detail"]
    status, body = bridge.post("stripe", event)
    assert (status, body["messages"]) == (200, 4)
    # Twice through EventBridge too (it delivers at least once), in one batch and in the next.
    for _ in range(2):
        assert consumer.lambda_handler(sqs_event(envelope_for(event)), LambdaContext()) == {"batchItemFailures": []}
    assert queued(bridge) == dict.fromkeys(known_vendors(), 1)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"detail-type": "customer.created", "source": "aws.partner/stripe.com/ed_1", "detail": {}},
        {**envelope_for({"id": "evt_x", "type": "customer.created"}), "source": "aws.partner/example.com/x"},
        {**envelope_for({"id": "evt_x", "type": "customer.created"}), "detail-type": "invoice.paid"},
    ],
    ids=["not-json", "incomplete-envelope", "not-from-stripe", "type-mismatch"],
)
def test_what_is_not_a_stripe_event_fails_alone_and_queues_nothing(bridge: Bridge, consumer, body, caplog):
    sample = json.loads((EVENTS / "eventbridge/2025-09-30.clover/customer.created.json").read_text())
    good = envelope_for({**sample["detail"], "id": "evt_good_neighbour"})
    good["detail"]["data"]["object"]["email"] = "zoe.nunez@example.com"
    event = sqs_event(body, good)
    response = consumer.lambda_handler(event, LambdaContext())
    # The bad record stays for a retry and then the DLQ; its neighbour is delivered.
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert queued(bridge) == dict.fromkeys(known_vendors(), 1)
    # Refused as the webhook route refuses: logged with its reason, never the event's values.
    (refused,) = [record for record in caplog.records if record.getMessage() == "webhook refused"]
    assert refused.levelname == "WARNING"
    assert "zoe.nunez@example.com" not in caplog.text


def test_a_batch_of_only_malformed_records_is_answered_record_by_record_not_crashed(bridge: Bridge, consumer):
    event = sqs_event("not json", {**envelope_for({"id": "evt_x", "type": "customer.created"}), "detail": []})
    response = consumer.lambda_handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
    assert queued(bridge) == dict.fromkeys(known_vendors(), 0)


def test_a_lone_surrogate_in_the_stripe_event_is_repaired_as_the_webhook_repairs_it(bridge: Bridge, consumer, vendors):
    # An escaped half of a surrogate pair survives JSON (EventBridge and SQS carry the escape);
    # UTF-8 cannot: kept as is, the event could never be queued, retried into the DLQ and again after a redrive.
    event = json.loads((EVENTS / "eventbridge/2025-09-30.clover/customer.created.json").read_text())["detail"]
    event["data"]["object"]["name"] = "Zoë \ud83d"
    body = json.dumps(envelope_for(event))
    assert "\\ud83d" in body
    assert consumer.lambda_handler(sqs_event(body), LambdaContext()) == {"batchItemFailures": []}
    bridge.drain(Vendor("customerio"))
    (identify,) = [call for call in vendors.calls if call.request.method == "PUT"]
    assert json.loads(identify.request.content)["first_name"] == "Zoë"
    assert json.loads(identify.request.content)["last_name"] == "\ufffd"


@pytest.mark.parametrize("event_type", ["v1.billing.meter.error_report_triggered", "v1.customer.created"])
def test_a_thin_event_is_ignored_not_retried_into_the_dead_letter_queue(bridge: Bridge, consumer, event_type, caplog):
    # An event destination set to the thin payload sends notifications like this one (Stripe's
    # v2 event reference): the object is only named, so there is nothing to map.
    thin = {
        "id": "evt_test_65R9Ijk8iuuO2hHDgTs16SXs9uSQ7mCSG0DLkXOWbXAhDz",
        "object": "v2.core.event",
        "type": event_type,
        "created": "2026-12-03T09:41:02.000Z",
        "livemode": False,
        "context": None,
        "related_object": {"id": "cus_thin", "type": "customer", "url": "/v1/customers/cus_thin"},
    }
    assert consumer.lambda_handler(sqs_event(envelope_for(thin)), LambdaContext()) == {"batchItemFailures": []}
    status, answer = bridge.post("stripe", {**thin, "id": "evt_test_thin_by_webhook"})
    assert (status, answer["status"]) == (200, "ignored")
    assert queued(bridge) == dict.fromkeys(known_vendors(), 0)
    warned = [r for r in caplog.records if r.getMessage() == THIN_EVENT_IGNORED]
    assert [r.levelname for r in warned] == ["WARNING", "WARNING"]  # each way, saying what to change


def _created(path: Path) -> int:
    return int(json.loads(path.read_text())["detail"]["created"])


def test_bridgectl_shows_and_replays_the_stripe_events_dead_letters(bridge: Bridge, capsys):
    from webhook_bridge.ops.cli import main as bridgectl

    queue, dlq = bridge.aws.create_queue_pair("bridge-StripeEventsQueue", "bridge-StripeEventsDeadLetterQueue")
    event = json.loads((EVENTS / "eventbridge/2025-09-30.clover/customer.created.json").read_text())
    bridge.aws.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(event))
    assert bridgectl(["--stack", "bridge", "dlq", "show", "stripe-events", "--json"], sqs=bridge.aws.sqs) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["event_type"], shown["action_id"]) == ("customer.created", event["detail"]["id"])
    assert event["detail"]["data"]["object"]["email"] not in json.dumps(shown)
    assert bridgectl(["--stack", "bridge", "dlq", "redrive", "stripe-events", "--all"], sqs=bridge.aws.sqs) == 0
    (replayed,) = bridge.aws.receive_all(queue)
    assert json.loads(replayed["Body"]) == event
    assert bridge.aws.count(dlq) == 0
