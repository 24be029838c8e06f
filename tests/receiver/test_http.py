"""The receiver's HTTP contract: what each kind of request gets back, and what ends in which queue."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from devstack.support.events import http_api_event
from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, FakeAws
from webhook_bridge.actions import Action, ActionKind, Person
from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.receiver.dedupe import EventDeduplicator
from webhook_bridge.receiver.exceptions import MalformedBodyError
from webhook_bridge.receiver.http import build_app
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.receiver.providers import STRIPE
from webhook_bridge.receiver.publisher import publish
from webhook_bridge.vendors.catalog import Vendor, vendors

SECRET = "whsec_receiver_test"


class IdentifyMapping:
    """customer.created → one identify action; anything else ignored. ``vendors``: the ones the
    mapping configuration allows (``None``: every vendor that handles the action)."""

    def __init__(self, vendors: tuple[Vendor, ...] | None = None) -> None:
        self.vendors = vendors

    def map(self, payload: dict[str, Any]) -> list[Action]:
        if payload["type"] == "boom":
            raise MalformedBodyError("stripe boom: data.object: Field required")
        if payload["type"] != "customer.created":
            return []
        return [
            Action(
                id=Action.make_id("stripe", payload["id"], 0),
                kind=ActionKind.IDENTIFY,
                source="stripe",
                source_event_id=payload["id"],
                source_event_type=payload["type"],
                occurred_at=datetime.now(UTC),
                person=Person(email=payload["data"]["object"]["email"]),
                identify=True,
            )
        ]

    def vendors_for(self, action: Action) -> tuple[Vendor, ...] | None:
        return self.vendors


def api_event(body: str | bytes, headers: dict[str, str], base64_encoded: bool = False) -> dict[str, Any]:
    """``headers`` exactly as given (API Gateway would lowercase them): the receiver must not rely on case."""
    content = {"content-type": "application/json"}
    event = http_api_event("/webhooks/stripe", body, content, base64_encoded=base64_encoded)
    event["headers"] = headers
    return event


def signed(payload: dict[str, Any], secret: str = SECRET, timestamp: int | None = None) -> tuple[str, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp or int(time.time()))
    return body, {"content-type": "application/json", "stripe-signature": header}


def customer_created(event_id: str = "evt_1", email: str = "Zoë@Example.com") -> dict[str, Any]:
    return {"id": event_id, "type": "customer.created", "data": {"object": {"id": "cus_1", "email": email}}}


def receiver_app(aws: FakeAws, queues: dict[Vendor, str], mapping: IdentifyMapping, **options: Any) -> Any:
    """``options``: the receiver's optional settings (``signature_tolerance``)."""
    receiver = Receiver(
        spec=STRIPE,
        mapping=mapping,
        enabled_vendors=vendors(),
        publish=lambda messages: publish(messages, queues.__getitem__, aws.sqs),
        dedupe=EventDeduplicator(IDEMPOTENCY_TABLE, 3600, "stripe"),
        max_body_bytes=4096,
        **options,
    )
    return build_app("/webhooks/stripe", lambda: receiver)


@pytest.fixture
def stack(aws: FakeAws, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    queues = {vendor: aws.sqs.create_queue(QueueName=f"q-{vendor.value}")["QueueUrl"] for vendor in vendors()}
    return receiver_app(aws, queues, IdentifyMapping()), queues, aws


def call(app: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.resolve(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def post(app: Any, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``payload`` as Stripe sends it, signed with the receiver's secret."""
    return call(app, api_event(*signed(payload)))


def depths(aws: FakeAws, queues: dict[Vendor, str]) -> dict[Vendor, int]:
    return {vendor: aws.count(url) for vendor, url in queues.items()}


def accepted_and_queued_once(stack: Any, payload: dict[str, Any]) -> None:
    """Stripe's delivery of ``payload`` gets a 200, and then each vendor queue holds one message."""
    app, queues, aws = stack
    status, _ = post(app, payload)
    assert status == 200
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)


def test_a_signed_event_puts_one_message_on_each_vendor_queue(stack):
    app, queues, aws = stack
    status, body = post(app, customer_created())
    assert status == 200
    assert body == {"event_id": "evt_1", "status": "accepted", "actions": 1, "messages": 4}
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)
    (message,) = aws.receive_all(queues[Vendor("loops")])
    sent = json.loads(message["Body"])
    assert sent["vendor"] == "loops"
    assert sent["action"]["person"]["email"] == "zoë@example.com"
    assert "enqueued_at" in message["MessageAttributes"]


def test_an_action_goes_only_to_the_vendors_its_mapping_allows_and_is_traced_so(stack):
    _, queues, aws = stack
    log = DeliveryLog(IDEMPOTENCY_TABLE, aws.dynamodb)
    app = receiver_app(aws, queues, IdentifyMapping(vendors=(Vendor("loops"), Vendor("segmetrics"))))
    status, body = call(app, api_event(*signed(customer_created("evt_some"))))
    assert (status, body) == (200, {"event_id": "evt_some", "status": "accepted", "actions": 1, "messages": 2})
    assert depths(aws, queues) == {vendor: int(vendor.value in ("loops", "segmetrics")) for vendor in vendors()}
    traced = log.read("stripe", "evt_some", [])["receiver"]  # the receipt, in the completed record
    action_id = Action.make_id("stripe", "evt_some", 0)
    assert traced["event_type"] == "customer.created"
    assert sorted(traced["deliveries"]) == [["loops", action_id], ["segmetrics", action_id]]


def test_the_same_event_three_times_is_queued_once(stack):
    app, queues, aws = stack
    for _ in range(3):
        status, _ = post(app, customer_created())
        assert status == 200
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)


def test_base64_bodies_and_header_case_are_handled(stack):
    app, queues, aws = stack
    body, headers = signed(customer_created("evt_b64"))
    headers = {"Stripe-Signature": headers["stripe-signature"]}
    status, _ = call(app, api_event(body.encode(), headers, base64_encoded=True))
    assert status == 200
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace("cus_1", "cus_2"), headers),
        lambda body, headers: (body, {}),
        lambda body, headers: (body, {"stripe-signature": "t=1,v1=abc"}),
        lambda body, headers: signed(json.loads(body), secret="whsec_wrong"),
        lambda body, headers: signed(json.loads(body), timestamp=int(time.time()) - 301),
    ],
    ids=["modified-body", "no-header", "garbage", "wrong-secret", "replayed-old"],
)
def test_forged_or_stale_requests_get_401_and_send_nothing(stack, tamper):
    app, queues, aws = stack
    body, headers = tamper(*signed(customer_created()))
    status, answer = call(app, api_event(body, headers))
    assert status == 401
    assert answer["error"] == "invalid_signature"
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


NO_ID_OR_TYPE = "stripe event without id or type"


def test_a_body_of_exactly_the_size_limit_is_accepted(stack):
    app, queues, aws = stack
    unpadded = json.dumps({**customer_created("evt_limit"), "pad": ""}, ensure_ascii=False)
    body, headers = signed({**customer_created("evt_limit"), "pad": "x" * (4096 - len(unpadded.encode()))})
    assert len(body.encode()) == 4096
    assert call(app, api_event(body, headers))[0] == 200
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)


def test_the_signature_tolerance_is_the_receivers_own(stack):
    """Configured to 60 s, a receiver refuses a signature 120 s old that the default 300 s would accept."""
    _, queues, aws = stack
    app = receiver_app(aws, queues, IdentifyMapping(), signature_tolerance=60)
    body, headers = signed(customer_created("evt_120s"), timestamp=int(time.time()) - 120)
    assert call(app, api_event(body, headers))[0] == 401
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


@pytest.mark.parametrize(
    ("body", "status", "answer"),
    [
        ("not json", 400, ("malformed_body", "body is not valid JSON")),
        ("[1, 2]", 400, ("malformed_body", "body is not a JSON object")),
        ('{"type": "customer.created"}', 400, ("malformed_body", NO_ID_OR_TYPE)),
        (json.dumps({**customer_created(), "id": 7}), 400, ("malformed_body", NO_ID_OR_TYPE)),
        (json.dumps({**customer_created(), "type": ""}), 400, ("malformed_body", NO_ID_OR_TYPE)),
        (
            json.dumps({"id": "evt_x", "type": "boom"}),
            400,
            ("malformed_body", "stripe boom: data.object: Field required"),
        ),
        (
            json.dumps({**customer_created("evt_big"), "pad": "x" * 5000}),
            413,
            ("payload_too_large", "body exceeds 4096 bytes"),
        ),
    ],
    ids=["not-json", "not-object", "no-id", "numeric-id", "empty-type", "wrong-shape", "too-large"],
)
def test_malformed_bodies_get_4xx_and_send_nothing(stack, body, status, answer):
    app, queues, aws = stack
    _, headers = signed({})
    headers["stripe-signature"] = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    error, message = answer
    assert call(app, api_event(body, headers)) == (status, {"error": error, "message": message})
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


def test_invalid_base64_is_a_400(stack):
    app, *_ = stack
    event = api_event("x", {"stripe-signature": "t=1,v1=00"})
    event["body"], event["isBase64Encoded"] = "***", True
    assert call(app, event) == (400, {"error": "malformed_body", "message": "body is not valid base64"})


def test_a_signed_empty_body_is_malformed_not_forged(stack):
    """The provider signed zero bytes: the signature holds, the body is what is wrong."""
    app, queues, aws = stack
    _, headers = signed({})
    headers["stripe-signature"] = stripe.WebhookSignature.generate_signature_header("", SECRET)
    assert call(app, api_event("", headers)) == (400, {"error": "malformed_body", "message": "body is not valid JSON"})
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


def test_unknown_event_types_are_acknowledged_and_ignored(stack):
    app, queues, aws = stack
    status, body = post(app, {"id": "evt_2", "type": "payout.paid", "data": {}})
    assert (status, body["status"]) == (200, "ignored")
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


def test_sqs_down_answers_503_and_the_retry_is_not_deduplicated_away(stack, monkeypatch):
    app, queues, aws = stack
    real = aws.sqs.send_message_batch

    def unavailable(**kwargs: Any) -> Any:
        raise aws.sqs.exceptions.QueueDoesNotExist({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue"}}, "x")

    monkeypatch.setattr(aws.sqs, "send_message_batch", unavailable)
    status, body = post(app, customer_created("evt_503"))
    assert (status, body["error"]) == (503, "queue_unavailable")
    monkeypatch.setattr(aws.sqs, "send_message_batch", real)
    accepted_and_queued_once(stack, customer_created("evt_503"))


def test_partially_refused_batches_are_retried_then_reported(stack, monkeypatch):
    aws = stack[2]
    real = aws.sqs.send_message_batch
    calls: list[int] = []

    def flaky(**kwargs: Any) -> Any:
        calls.append(len(kwargs["Entries"]))
        if len(calls) == 1:
            return {
                "Successful": [],
                "Failed": [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in kwargs["Entries"]],
            }
        return real(**kwargs)

    monkeypatch.setattr(aws.sqs, "send_message_batch", flaky)
    accepted_and_queued_once(stack, customer_created("evt_flaky"))


def test_an_unconfigured_secret_refuses_with_401_not_5xx(stack, monkeypatch):
    app, queues, aws = stack
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    status, answer = post(app, customer_created("evt_nosecret"))
    assert (status, answer["error"]) == (401, "invalid_signature")
    assert depths(aws, queues) == dict.fromkeys(vendors(), 0)


def test_a_copy_arriving_while_the_first_is_being_queued_gets_409_and_its_retry_is_answered_once(stack, monkeypatch):
    app, queues, aws = stack
    real = aws.sqs.send_message_batch
    first_is_queueing, release = threading.Event(), threading.Event()
    batches = iter(range(10**6))  # next() on an iterator is atomic under the GIL

    def slow(**kwargs: Any) -> Any:
        if next(batches) < len(vendors()):  # the first copy's batches, one per vendor queue, wait
            first_is_queueing.set()
            assert release.wait(timeout=30)
        return real(**kwargs)

    monkeypatch.setattr(aws.sqs, "send_message_batch", slow)
    event = api_event(*signed(customer_created("evt_twice")))
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(call, app, event)
        assert first_is_queueing.wait(timeout=30)
        try:
            status, answer = call(app, event)  # Stripe retried while the first copy was in flight
        finally:
            release.set()
        retry_later = {"error": "in_progress", "message": "this event is being processed; retry later"}
        assert (status, answer) == (409, retry_later)
        assert first.result() == (200, {"event_id": "evt_twice", "status": "accepted", "actions": 1, "messages": 4})
    # The provider's retry after the 409 gets the first answer; nothing is queued twice.
    assert call(app, event) == (200, {"event_id": "evt_twice", "status": "accepted", "actions": 1, "messages": 4})
    assert depths(aws, queues) == dict.fromkeys(vendors(), 1)
