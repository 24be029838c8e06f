"""`bridgectl trace` reads a delivery from its completed idempotency record, not from a log write."""

from __future__ import annotations

import pytest

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, FakeAws
from tests.delivery.test_processor import make_message
from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import sync_message
from webhook_bridge.delivery_log import (
    RECEIPT,
    DeliveryLog,
    delivery_prefix,
    receipt,
    receiver_dedupe_key,
    receiver_prefix,
)
from webhook_bridge.idempotency import RunOnce
from webhook_bridge.ops.trace import trace


@pytest.fixture
def log(aws: FakeAws) -> DeliveryLog:
    return DeliveryLog(IDEMPOTENCY_TABLE, aws.dynamodb)


def received(aws: FakeAws, *messages: VendorMessage) -> None:
    """The Stripe receiver's completed record for evt_1, which queued ``messages``."""
    run_once = RunOnce(IDEMPOTENCY_TABLE, 3600, receiver_prefix("stripe"), aws.dynamodb)
    run_once.register_lambda_context(LambdaContext())
    result = {"status": "accepted", RECEIPT: receipt("customer.subscription.updated", messages)}
    run_once(receiver_dedupe_key("stripe", "evt_1"), lambda: result)


def deliver_once(aws: FakeAws, sent: list[VendorMessage]) -> IdempotentDelivery:
    deliver = IdempotentDelivery(
        sent.append, IDEMPOTENCY_TABLE, 3600, aws.dynamodb, key_prefix=delivery_prefix("loops")
    )
    deliver.register_lambda_context(LambdaContext())
    return deliver


@pytest.fixture
def calls(aws: FakeAws) -> list[str]:
    """The DynamoDB operations made from now on, in order."""
    made: list[str] = []
    aws.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: made.append(model.name))
    return made


def test_a_delivery_writes_only_its_record_and_the_trace_shows_it_delivered(
    aws: FakeAws, log: DeliveryLog, calls: list[str]
) -> None:
    message, sent = make_message(), []
    received(aws, message)
    log.retrying(message, attempts=1, next_try=1.0e9, error="InternalServerError (HTTP 503)")
    deliver = deliver_once(aws, sent)
    calls.clear()

    assert deliver(message) is True

    assert sent == [message]
    assert calls == ["PutItem", "UpdateItem"]  # the record, in progress then completed; no log write
    [delivery] = trace(log, "stripe", "evt_1")["deliveries"]
    assert (delivery["vendor"], delivery["action_id"], delivery["state"]) == ("loops", message.action.id, "delivered")
    assert delivery["at"] > 1.0e9


def test_an_action_still_retrying_is_shown_retrying(aws: FakeAws, log: DeliveryLog) -> None:
    message = make_message()
    received(aws, message)
    log.retrying(message, attempts=2, next_try=1.0e9, error="RateLimitError (HTTP 429)")

    [delivery] = trace(log, "stripe", "evt_1")["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["error_class"]) == ("retrying", 2, "RateLimitError")


def test_a_sync_the_receiver_never_listed_is_logged_and_traced(aws: FakeAws, log: DeliveryLog) -> None:
    message = make_message(ordering=("customer#cus_1", "2"))
    sync = sync_message(message, "3")
    received(aws, message)
    deliver = deliver_once(aws, [])

    assert deliver(message) is True
    assert deliver(sync) is True

    states = {d["action_id"]: d["state"] for d in trace(log, "stripe", "evt_1")["deliveries"]}
    assert states == {message.action.id: "delivered", sync.action.id: "delivered"}
