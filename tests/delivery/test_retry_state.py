"""A message's retry history survives the trip through SQS message attributes exactly."""

from __future__ import annotations

from typing import Any

import pytest

from webhook_bridge.delivery.retry_state import RetryState

NOW = 1_800_000_000.25


def received(state: RetryState) -> dict[str, Any]:
    """The attributes as the SQS event hands them to the delivery function."""
    return {
        name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
        for name, value in state.to_sqs_attributes().items()
    }


def test_a_fresh_message_sends_only_the_counters():
    assert RetryState().to_sqs_attributes() == {
        "attempts": {"DataType": "Number", "StringValue": "0"},
        "identity_waits": {"DataType": "Number", "StringValue": "0"},
    }


def test_every_field_is_sent_in_sendmessage_shape():
    state = RetryState(
        attempts=3,
        identity_waits=1,
        first_attempt_at=NOW,
        not_before=NOW + 90.5,
        enqueued_at=NOW - 10,
        last_error="InternalServerError: loops: HTTP 503: down",
    )
    assert state.to_sqs_attributes() == {
        "attempts": {"DataType": "Number", "StringValue": "3"},
        "identity_waits": {"DataType": "Number", "StringValue": "1"},
        "first_attempt_at": {"DataType": "Number", "StringValue": "1800000000.250"},
        "not_before": {"DataType": "Number", "StringValue": "1800000090.750"},
        "enqueued_at": {"DataType": "Number", "StringValue": "1799999990.250"},
        "last_error": {"DataType": "String", "StringValue": "InternalServerError: loops: HTTP 503: down"},
    }


def test_the_round_trip_through_sqs_keeps_every_field():
    state = RetryState(
        attempts=7, identity_waits=2, first_attempt_at=NOW, not_before=NOW + 900, enqueued_at=NOW - 1, last_error="x"
    )
    assert RetryState.from_attributes(received(state)) == state


def test_a_message_from_the_receiver_has_only_its_enqueue_time():
    attributes = {
        "enqueued_at": {"stringValue": "1800000000.125", "dataType": "Number"},
        "source_event_type": {"stringValue": "invoice.paid", "dataType": "String"},
    }
    assert RetryState.from_attributes(attributes) == RetryState(enqueued_at=1800000000.125)


@pytest.mark.parametrize("garbage", ["", "soon", "1e", None])
def test_unreadable_numbers_count_as_absent(garbage):
    attributes = {"attempts": {"stringValue": garbage}, "not_before": {"stringValue": garbage}}
    assert RetryState.from_attributes(attributes) == RetryState()


def test_attributes_without_a_string_value_count_as_absent():
    assert RetryState.from_attributes({"attempts": {"dataType": "Number"}, "not_before": "12"}) == RetryState()


def test_a_failure_counts_an_attempt_and_sets_when_to_try_again():
    after = RetryState(enqueued_at=NOW - 5).after_failure(NOW, 30.0, "InternalServerError: down")
    assert after == RetryState(
        attempts=1,
        first_attempt_at=NOW,
        not_before=NOW + 30,
        enqueued_at=NOW - 5,
        last_error="InternalServerError: down",
    )


def test_later_failures_keep_the_first_failure_time():
    first = RetryState().after_failure(NOW, 30.0, "a")
    second = first.after_failure(NOW + 100, 60.0, "b")
    assert (second.attempts, second.first_attempt_at, second.not_before, second.last_error) == (2, NOW, NOW + 160, "b")


def test_the_last_error_is_cut_to_250_characters():
    assert RetryState().after_failure(NOW, 1.0, "e" * 1000).last_error == "e" * 250


def test_deferring_does_not_count_a_failed_attempt():
    state = RetryState(attempts=2, first_attempt_at=NOW - 60, last_error="x")
    assert state.deferred(NOW, 30.0) == RetryState(
        attempts=2, first_attempt_at=NOW - 60, not_before=NOW + 30, last_error="x"
    )


def test_waiting_for_an_identity_counts_the_wait_only():
    state = RetryState(attempts=1, identity_waits=1)
    assert state.waiting_for_identity(NOW, 60.0) == RetryState(attempts=1, identity_waits=2, not_before=NOW + 60)


def test_a_message_moved_back_from_the_dlq_with_its_attributes_gets_a_fresh_retry_budget():
    """SQS's own redrive (StartMessageMoveTask) keeps the attributes, ``failed_at`` among them."""
    spent = RetryState(
        attempts=8, identity_waits=3, first_attempt_at=NOW - 600, not_before=NOW, enqueued_at=NOW - 900, last_error="x"
    )
    attributes = received(spent) | {"failed_at": {"stringValue": "1800000000.000", "dataType": "Number"}}
    assert RetryState.from_attributes(attributes) == RetryState(enqueued_at=NOW - 900)
