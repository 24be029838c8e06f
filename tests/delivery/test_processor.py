"""Every fate of a delivery message: delivered once, retried through SQS, dead-lettered, skipped."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from devstack.support.events import queue_arn, sqs_message, sqs_record
from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE, FakeAws
from tests.delivery.conftest import stripe_message
from webhook_bridge.actions import ActionKind, Person, TrackEvent, VendorMessage
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import StateLedger
from webhook_bridge.delivery.processor import DeliveryProcessor, Outcome
from webhook_bridge.delivery.queue_ops import QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.state import InMemoryIdentityStore
from webhook_bridge.vendors.exceptions import (
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_message(
    event_id: str = "evt_1",
    email: str | None = "jane@example.com",
    ordering: tuple[str, str] | None = None,
) -> VendorMessage:
    key, version = ordering or (None, None)
    return stripe_message(
        event_id,
        "customer.subscription.updated",
        ActionKind.TRACK,
        NOW,
        Person(email=email, stripe_customer_id="cus_1"),
        identify=True,
        event=TrackEvent(name="subscription_updated"),
        ordering_key=key,
        ordering_version=version,
    )


def record(message: VendorMessage | str, state: RetryState | None = None) -> SQSRecord:
    """The message as the SQS event source hands it to the delivery function, with its retry state."""
    body = message if isinstance(message, str) else message.model_dump_json()
    attributes = (state or RetryState(enqueued_at=time.time())).to_sqs_attributes()
    return SQSRecord(sqs_record(sqs_message(body, attributes), queue_arn("queue")))


class VendorDouble:
    """Stands in for the vendor client: records calls, fails as told."""

    def __init__(self) -> None:
        self.calls: list[VendorMessage] = []
        self.failures: list[Exception] = []

    def __call__(self, message: VendorMessage) -> None:
        self.calls.append(message)
        if self.failures:
            raise self.failures.pop(0)


class SpySqs:
    """Passes through to moto and keeps the SendMessage arguments for assertions."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> Any:
        self.sent.append(kwargs)
        return self._client.send_message(**kwargs)


@pytest.fixture
def setup(aws: FakeAws):
    queue, dlq = aws.create_queue_pair("loops")
    vendor = VendorDouble()
    spy = SpySqs(aws.sqs)
    identities = InMemoryIdentityStore()
    processor = DeliveryProcessor(
        deliver_once=IdempotentDelivery(vendor, IDEMPOTENCY_TABLE, 3600),
        queue=QueueOps(queue, dlq, spy),
        ordering=StateLedger(STATE_TABLE, aws.dynamodb),
        identities=IdentityResolver(identities),
    )
    processor.start_invocation(LambdaContext())
    return processor, vendor, spy, queue, dlq, identities


def test_delivers_once_even_when_sqs_delivers_twice(setup):
    processor, vendor, spy, *_ = setup
    message = make_message()
    assert processor.handle(record(message)) is Outcome.DELIVERED
    assert processor.handle(record(message)) is Outcome.DUPLICATE
    assert len(vendor.calls) == 1
    assert spy.sent == []


def test_429_is_requeued_after_the_vendors_delay_without_a_failed_receive(setup, aws):
    processor, vendor, spy, queue, dlq, _ = setup
    vendor.failures.append(RateLimitError("loops", "slow down", status_code=429, retry_after=120))
    before = time.time()
    assert processor.handle(record(make_message())) is Outcome.THROTTLED
    (sent,) = spy.sent
    assert sent["QueueUrl"] == queue
    assert 120 <= sent["DelaySeconds"] <= 122
    state = RetryState.from_attributes(
        {k: {"stringValue": v["StringValue"]} for k, v in sent["MessageAttributes"].items()}
    )
    assert state.attempts == 1 and state.not_before is not None and state.not_before >= before + 120
    assert aws.count(dlq) == 0


def test_a_long_delay_hops_through_the_15_minute_sqs_maximum(setup):
    processor, vendor, spy, queue, _, _ = setup
    vendor.failures.append(RateLimitError("loops", "slow down", status_code=429, retry_after=3000))
    processor.handle(record(make_message()))
    assert spy.sent[0]["DelaySeconds"] == 900
    # Arriving again before it is due: re-enqueued without calling the vendor.
    state = RetryState(attempts=1, first_attempt_at=time.time(), not_before=time.time() + 2100)
    assert processor.handle(record(make_message(), state)) is Outcome.NOT_DUE
    assert len(vendor.calls) == 1
    assert spy.sent[1]["DelaySeconds"] == 900


@pytest.mark.parametrize(
    "error",
    [
        InternalServerError("loops", "boom", status_code=503),
        APITimeoutError("loops", "timed out"),
    ],
)
def test_transient_errors_back_off_exponentially(setup, error):
    processor, vendor, spy, queue, _, _ = setup
    vendor.failures.append(error)
    assert processor.handle(record(make_message())) is Outcome.RETRIED
    assert 15 <= spy.sent[0]["DelaySeconds"] <= 30  # first backoff: 30 s with equal jitter
    later = RetryState(attempts=5, first_attempt_at=time.time() - 600)
    vendor.failures.append(error)
    processor.handle(record(make_message(), later))
    assert 480 <= spy.sent[1]["DelaySeconds"] <= 900  # sixth attempt: 960 s ceiling, jittered, 900 s per hop


def test_permanent_rejection_goes_straight_to_the_dlq_with_its_reason(setup, aws):
    processor, vendor, spy, queue, dlq, _ = setup
    vendor.failures.append(BadRequestError("loops", "eventName is required", status_code=400, errors=["eventName"]))
    assert processor.handle(record(make_message())) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    attrs = letter["MessageAttributes"]
    assert attrs["failure_class"]["StringValue"] == "BadRequestError"
    assert attrs["failure_status"]["StringValue"] == "400"
    assert attrs["failure_reason"]["StringValue"] == "BadRequestError (HTTP 400)"  # never the vendor's text
    assert json.loads(letter["Body"])["action"]["id"] == "stripe:evt_1:0"
    assert aws.count(queue) == 0 and len(vendor.calls) == 1


def test_retries_stop_after_the_window_and_the_message_is_dead_lettered(setup, aws):
    processor, vendor, spy, queue, dlq, _ = setup
    vendor.failures.append(InternalServerError("loops", "down", status_code=503))
    exhausted = RetryState(attempts=30, first_attempt_at=time.time() - 26 * 3600 + 60)
    assert processor.handle(record(make_message(), exhausted)) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    assert "retries exhausted after 31 attempts" in letter["MessageAttributes"]["failure_reason"]["StringValue"]


def test_a_retry_schedule_spans_at_least_24_hours(setup):
    processor, vendor, spy, *_ = setup
    now = time.time()
    state = RetryState()
    elapsed = 0.0
    for _ in range(100):  # bounded: a schedule that never ends fails rather than hangs
        vendor.failures.append(InternalServerError("loops", "down", status_code=500))
        processor.clock = lambda at=now + elapsed: at
        outcome = processor.handle(record(make_message(), state))
        if outcome is Outcome.DEAD_LETTERED:
            break
        sent = spy.sent[-1]
        state = RetryState.from_attributes(
            {k: {"stringValue": v["StringValue"]} for k, v in sent["MessageAttributes"].items()}
        )
        elapsed = state.not_before - now
    assert outcome is Outcome.DEAD_LETTERED
    assert elapsed >= 24 * 3600


def test_an_unexpected_error_takes_the_retry_path_and_the_retry_delivers_once(setup):
    processor, vendor, spy, queue, *_ = setup
    vendor.failures.append(RuntimeError("the adapter broke for jane@example.com"))
    message = make_message()
    assert processor.handle(record(message)) is Outcome.RETRIED
    (sent,) = spy.sent
    assert sent["QueueUrl"] == queue
    assert sent["MessageAttributes"]["last_error"]["StringValue"] == "RuntimeError"
    assert processor.handle(record(message)) is Outcome.DELIVERED
    assert processor.handle(record(message)) is Outcome.DUPLICATE
    assert len(vendor.calls) == 2


def test_only_a_failure_to_requeue_is_left_to_sqs_and_its_redrive_policy(setup):
    processor, vendor, spy, *_ = setup
    vendor.failures.append(InternalServerError("loops", "down", status_code=503))

    def sqs_down(**kwargs):
        raise ConnectionError("SQS unreachable")

    spy.send_message = sqs_down
    with pytest.raises(ConnectionError):
        processor.handle(record(make_message()))


def test_older_subscription_state_never_overwrites_a_newer_one_but_its_event_is_tracked(setup):
    processor, vendor, *_ = setup
    newer = make_message("evt_new", ordering=("stripe-subscription:sub_1", "2000"))
    older = make_message("evt_old", ordering=("stripe-subscription:sub_1", "1000"))
    assert processor.handle(record(newer)) is Outcome.DELIVERED
    assert processor.handle(record(older)) is Outcome.DELIVERED
    first, late = vendor.calls
    assert (first.action.identify, first.action.ordering_key) == (True, "stripe-subscription:sub_1")
    # The late one keeps its event and sets no state: the vendor holds the newest already.
    assert late.action.id == "stripe:evt_old:0"
    assert late.action.event is not None and late.action.event.name == "subscription_updated"
    assert (late.action.identify, late.action.subscription) == (False, None)


def test_a_state_without_an_event_is_skipped_when_stale(setup):
    processor, vendor, *_ = setup
    newer = make_message("evt_new", ordering=("stripe-subscription:sub_1", "2000"))
    stale = make_message("evt_old", ordering=("stripe-subscription:sub_1", "1000"))
    stale = stale.model_copy(update={"action": stale.action.model_copy(update={"event": None})})
    processor.handle(record(newer))
    assert processor.handle(record(stale)) is Outcome.STALE
    assert len(vendor.calls) == 1


def test_a_retry_of_the_newest_state_still_sets_it(setup):
    processor, vendor, *_ = setup
    vendor.failures.append(InternalServerError("loops", "down", status_code=503))
    newest = make_message("evt_new", ordering=("stripe-subscription:sub_1", "2000"))
    assert processor.handle(record(newest)) is Outcome.RETRIED
    assert processor.handle(record(newest, RetryState(attempts=1))) is Outcome.DELIVERED
    assert vendor.calls[-1].action.identify is True


def test_an_unreadable_message_is_dead_lettered_not_retried(setup, aws):
    processor, vendor, spy, queue, dlq, _ = setup
    assert processor.handle(record("{not json")) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    assert letter["Body"] == "{not json"
    assert letter["MessageAttributes"]["failure_class"]["StringValue"] == "Poison"


def test_a_remembered_email_is_filled_in(setup):
    processor, vendor, spy, *_, identities = setup
    identities.remember("cus_1", "jane@example.com", "0.000000000100.0.0.evt_a")
    assert processor.handle(record(make_message(email=None))) is Outcome.DELIVERED
    assert vendor.calls[0].action.person.email == "jane@example.com"


def test_a_copy_arriving_while_the_first_is_with_the_vendor_is_deferred_30_s_without_a_failed_attempt(setup):
    processor, vendor, spy, queue, *_ = setup
    message = make_message()
    with_vendor, release = threading.Event(), threading.Event()
    calls = vendor.calls

    def slow_vendor(sent: VendorMessage) -> None:
        if not calls:  # only the first call waits, so a second one fails the test at once
            with_vendor.set()
            assert release.wait(timeout=30)
        calls.append(sent)

    processor.deliver_once = IdempotentDelivery(slow_vendor, IDEMPOTENCY_TABLE, 3600)
    processor.start_invocation(LambdaContext())
    state = RetryState(attempts=2, first_attempt_at=time.time() - 60)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(processor.handle, record(message))
        assert with_vendor.wait(timeout=30)
        before = time.time()
        try:
            assert processor.handle(record(message, state)) is Outcome.NOT_DUE
        finally:
            release.set()
        assert first.result() is Outcome.DELIVERED
    (deferred,) = spy.sent
    assert (deferred["QueueUrl"], deferred["DelaySeconds"]) == (queue, 30)
    requeued = RetryState.from_attributes(
        {k: {"stringValue": v["StringValue"]} for k, v in deferred["MessageAttributes"].items()}
    )
    assert requeued.attempts == 2 and requeued.not_before is not None
    assert requeued.not_before >= before + 29.999  # kept to the millisecond
    assert len(calls) == 1
    # When the deferred copy comes back and is due, the delivery is already recorded.
    processor.clock = lambda: requeued.not_before
    assert processor.handle(record(message, requeued)) is Outcome.DUPLICATE
    assert len(calls) == 1


def test_the_dlq_reason_never_holds_the_email_the_vendor_echoed(setup, aws):
    processor, vendor, spy, queue, dlq, _ = setup
    echoed = "contact Jane.Doe@Example.com: firstName too long"
    vendor.failures.append(BadRequestError("loops", echoed, status_code=400))
    assert processor.handle(record(make_message(email="Jane.Doe@Example.com"))) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    reason = letter["MessageAttributes"]["failure_reason"]["StringValue"]
    assert "jane.doe" not in reason.casefold()
    for name, attribute in letter["MessageAttributes"].items():
        if name != "failure_reason":
            assert "jane.doe" not in attribute.get("StringValue", "").casefold(), name
