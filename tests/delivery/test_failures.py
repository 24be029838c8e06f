"""Every failure during delivery takes the retry path with a reason, and none leaks personal data."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, STATE_TABLE, FakeAws
from tests.delivery.test_processor import SpySqs, VendorDouble, make_message, record
from webhook_bridge.delivery.identity import IdentityResolver
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.delivery.ordering import StateLedger
from webhook_bridge.delivery.processor import DeliveryProcessor, Outcome
from webhook_bridge.delivery.queue_ops import QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.secrets import MissingSecretError
from webhook_bridge.state import InMemoryIdentityStore
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.exceptions import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)

WINDOW = 26 * 3600


class ThrottledDynamoDB:
    """moto's client, except that the next ``failures`` writes are throttled as DynamoDB does."""

    def __init__(self, client: Any, failures: int) -> None:
        self._client = client
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if name not in {"put_item", "update_item"}:
            return call

        def throttled(**kwargs: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}
                raise ClientError({"Error": error}, name)
            return call(**kwargs)

        return throttled


@pytest.fixture
def bridge(aws: FakeAws):
    queue, dlq = aws.create_queue_pair("loops")
    vendor = VendorDouble()
    spy = SpySqs(aws.sqs)
    dynamodb = ThrottledDynamoDB(aws.dynamodb, failures=0)
    processor = DeliveryProcessor(
        deliver_once=IdempotentDelivery(vendor, IDEMPOTENCY_TABLE, 3600, dynamodb),
        queue=QueueOps(queue, dlq, spy),
        ordering=StateLedger(STATE_TABLE, aws.dynamodb),
        identities=IdentityResolver(InMemoryIdentityStore()),
        vendor=Vendor("loops"),
    )
    processor.start_invocation(LambdaContext())
    return processor, vendor, spy, dynamodb, queue, dlq


def sent_state(sent: dict[str, Any]) -> RetryState:
    attributes = sent["MessageAttributes"]
    return RetryState.from_attributes({name: {"stringValue": v["StringValue"]} for name, v in attributes.items()})


def test_dynamodb_throttling_during_delivery_is_retried_then_delivered_once(bridge, aws):
    processor, vendor, spy, dynamodb, queue, dlq = bridge
    dynamodb.failures = 1
    message = make_message()
    assert processor.handle(record(message)) is Outcome.RETRIED
    (retry,) = spy.sent
    assert retry["QueueUrl"] == queue and 15 <= retry["DelaySeconds"] <= 30
    state = sent_state(retry)
    assert state.attempts == 1
    assert state.last_error == "IdempotencyPersistenceLayerError (code ProvisionedThroughputExceededException)"
    assert vendor.calls == []  # the vendor is never called without the idempotency record
    processor.clock = lambda: state.not_before  # the retry arrives when due
    assert processor.handle(record(message, state)) is Outcome.DELIVERED
    assert len(vendor.calls) == 1 and aws.count(dlq) == 0


@pytest.mark.parametrize(
    "error",
    [
        MissingSecretError("LOOPS_API_KEY"),
        GetParameterError("An error occurred (InternalServiceError) when calling GetSecretValue"),
        ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "SendMessage"),
        KeyError("jane@example.com"),
    ],
    ids=["missing secret", "secrets manager down", "aws error", "a bug"],
)
def test_aws_and_configuration_errors_take_the_retry_path_with_their_class(bridge, error):
    processor, vendor, spy, *_ = bridge
    vendor.failures.append(error)
    assert processor.handle(record(make_message())) is Outcome.RETRIED
    assert sent_state(spy.sent[0]).last_error.startswith(type(error).__name__)


def test_the_same_errors_are_dead_lettered_with_a_reason_when_the_window_ends(bridge, aws):
    processor, vendor, spy, *_, dlq = bridge
    vendor.failures.append(MissingSecretError("LOOPS_API_KEY"))
    late = RetryState(attempts=40, first_attempt_at=time.time() - WINDOW + 5)
    assert processor.handle(record(make_message(), late)) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    attributes = letter["MessageAttributes"]
    assert attributes["failure_reason"]["StringValue"] == "retries exhausted after 41 attempts: MissingSecretError"
    assert attributes["failure_class"]["StringValue"] == "MissingSecretError"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_retried_on_the_normal_schedule_and_counted(bridge, counted, status):
    processor, vendor, spy, *_ = bridge
    vendor.failures.append(AuthenticationError("loops", "Invalid API key", status_code=status, code="unauthorized"))
    assert processor.handle(record(make_message())) is Outcome.RETRIED
    assert 15 <= spy.sent[0]["DelaySeconds"] <= 30
    assert sent_state(spy.sent[0]).last_error == f"AuthenticationError (HTTP {status}, code unauthorized)"
    assert counted == ["AuthFailed", "Retried"]
    retry = sent_state(spy.sent[0])
    processor.clock = lambda: retry.not_before
    assert processor.handle(record(make_message(), retry)) is Outcome.DELIVERED
    assert counted[2:] == ["DeliveryLatency", "Delivered"]


def test_a_refused_key_is_dead_lettered_only_when_the_window_runs_out(bridge, aws, counted):
    processor, vendor, spy, *_, dlq = bridge
    vendor.failures.append(AuthenticationError("loops", "Invalid API key", status_code=401))
    late = RetryState(attempts=30, first_attempt_at=time.time() - WINDOW + 60)
    assert processor.handle(record(make_message(), late)) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    assert letter["MessageAttributes"]["failure_status"]["StringValue"] == "401"
    assert counted == ["AuthFailed", "DeadLettered"]


@pytest.mark.parametrize(
    "error",
    [
        RateLimitError("loops", "slow down", status_code=429, retry_after=7200),
        InternalServerError("loops", "maintenance", status_code=503, retry_after=7200),
    ],
)
def test_retry_after_beyond_an_hour_is_honoured(bridge, error):
    processor, vendor, spy, *_ = bridge
    vendor.failures.append(error)
    before = time.time()
    processor.handle(record(make_message()))
    (sent,) = spy.sent
    assert sent["DelaySeconds"] == 900  # hops through SQS's 15-minute maximum until due
    assert 7200 <= sent_state(sent).not_before - before <= 7202


def test_retry_after_beyond_the_window_gets_a_last_attempt_when_the_window_ends(bridge, aws):
    processor, vendor, spy, *_, dlq = bridge
    vendor.failures.append(RateLimitError("loops", "quota", status_code=429, retry_after=20 * 3600))
    now = time.time()
    first = now - 10 * 3600
    processor.clock = lambda: now
    started = RetryState(attempts=3, first_attempt_at=first)
    assert processor.handle(record(make_message(), started)) is Outcome.THROTTLED
    last = sent_state(spy.sent[0])
    assert last.not_before == pytest.approx(first + WINDOW, abs=0.01)
    vendor.failures.append(RateLimitError("loops", "quota", status_code=429, retry_after=20 * 3600))
    processor.clock = lambda: last.not_before
    assert processor.handle(record(make_message(), last)) is Outcome.DEAD_LETTERED
    (letter,) = aws.receive_all(dlq)
    reason = letter["MessageAttributes"]["failure_reason"]["StringValue"]
    assert reason == "retries exhausted after 5 attempts: RateLimitError (HTTP 429)"


def test_a_message_for_another_vendor_is_dead_lettered_as_wrong_queue(bridge, aws):
    processor, vendor, spy, *_, dlq = bridge
    message = make_message().model_copy(update={"vendor": Vendor("customerio")})
    assert processor.handle(record(message)) is Outcome.DEAD_LETTERED
    assert vendor.calls == []
    (letter,) = aws.receive_all(dlq)
    assert letter["MessageAttributes"]["failure_reason"]["StringValue"] == "wrong_queue"
    assert json.loads(letter["Body"])["vendor"] == "customerio"


def test_a_call_that_may_have_been_kept_counts_a_possible_duplicate(bridge, counted):
    processor, vendor, *_ = bridge
    error = APITimeoutError("convertloop", "POST /event_logs timed out (ReadTimeout)")
    error.possibly_applied = True
    vendor.failures.append(error)
    assert processor.handle(record(make_message())) is Outcome.RETRIED
    assert counted == ["PossibleDuplicate", "Retried"]


# Vendors' error texts repeat the request: these are how addresses come back in them.
ECHOED_EMAILS = [
    "jane.doe@example.com.",
    '"jane doe"@example.com',
    "zoë.núñez@exämple.fr",
    "jane.doe%40example.com",
    "<jane.doe@localhost>,",
]


@pytest.mark.parametrize("email", ECHOED_EMAILS)
@pytest.mark.parametrize("permanent", [True, False], ids=["dead-lettered", "retried"])
def test_a_vendor_error_repeating_the_email_leaves_no_trace_of_it(bridge, aws, logged, email, permanent):
    processor, vendor, spy, *_, dlq = bridge
    text = f"Contact {email} is invalid: {email}"
    error_class = BadRequestError if permanent else InternalServerError
    vendor.failures.append(error_class("loops", text, status_code=422 if permanent else 500, errors=[text]))
    processor.handle(record(make_message(email="jane.doe@example.com")))
    letters = aws.receive_all(dlq)
    visible = logged() + json.dumps(
        [sent["MessageAttributes"] for sent in spy.sent] + [letter["MessageAttributes"] for letter in letters],
        ensure_ascii=False,
    )
    assert len(letters) == (1 if permanent else 0)
    assert ("dead-lettered" if permanent else "retry scheduled") in visible  # the log was captured
    for part in ("jane", "doe", "zoë", "núñez", "Contact"):
        assert part not in visible
