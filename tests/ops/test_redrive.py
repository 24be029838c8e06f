"""`bridgectl dlq redrive`: selection by id, reason, status, event type and date; --all through SQS's own move."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest

from tests.conftest import FakeAws
from webhook_bridge.delivery.queue_ops import FailureReport, QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.ops import dlq as dlq_module
from webhook_bridge.ops.cli import main as bridgectl

DAY = 86400
NOW = time.time()


def letter(event_type: str, email: str) -> str:
    action = {"id": f"stripe:evt_{email.split('@')[0]}:0", "source_event_type": event_type, "person": {"email": email}}
    return json.dumps({"vendor": "loops", "action": action})


@pytest.fixture
def dlq(aws: FakeAws) -> tuple[str, str, QueueOps]:
    queue, dead = aws.create_queue_pair("bridge-LoopsQueue", "bridge-LoopsDeadLetterQueue")
    ops = QueueOps(queue, dead, aws.sqs)
    failures = [
        ("customer.created", "ann@example.com", FailureReport("HTTP 400: bad email", "BadRequestError", 400), 3),
        ("invoice.paid", "bob@example.com", FailureReport("HTTP 400: bad field", "BadRequestError", 400), 2),
        ("invoice.paid", "cy@example.com", FailureReport("retries exhausted", "InternalServerError", 503), 1),
    ]
    for event_type, email, failure, days_ago in failures:
        with mock.patch("time.time", return_value=NOW - days_ago * DAY):
            ops.dead_letter(letter(event_type, email), RetryState(attempts=30, first_attempt_at=NOW - 9 * DAY), failure)
    return queue, dead, ops


def redrive(aws: FakeAws, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = bridgectl(["--stack", "bridge", "dlq", "redrive", "loops", *argv], sqs=aws.sqs)
    return code, capsys.readouterr().out


def moved(aws: FakeAws, queue: str) -> set[str]:
    return {json.loads(m["Body"])["action"]["person"]["email"] for m in aws.receive_all(queue)}


def day(days_ago: float) -> str:
    return datetime.fromtimestamp(NOW - days_ago * DAY, UTC).isoformat()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--status", "400"], {"ann@example.com", "bob@example.com"}),
        (["--reason", "internalservererror"], {"cy@example.com"}),
        (["--event-type", "invoice.*"], {"bob@example.com", "cy@example.com"}),
        (["--event-type", "invoice.*", "--status", "400"], {"bob@example.com"}),
        (["--since", day(2.5)], {"bob@example.com", "cy@example.com"}),
        (["--since", day(2.5), "--until", day(1.5)], {"bob@example.com"}),
        (["--event-type", "charge.*"], set()),
    ],
)
def test_filters_select_what_is_redriven_and_leave_the_rest(aws, capsys, dlq, filters, expected):
    queue, dead, _ = dlq
    code, out = redrive(aws, capsys, *filters)
    assert code == 0 and f"redrove {len(expected)} message(s)" in out
    assert moved(aws, queue) == expected
    assert aws.count(dead) == 3 - len(expected)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"vendor": "loops", "action": None}),
        json.dumps({"vendor": "loops", "action": "dee@example.com"}),
        json.dumps({"vendor": "loops", "action": {"id": "dee@example.com", "source_event_type": ["x"]}}),
        json.dumps({"detail-type": "customer.created", "detail": "dee@example.com"}),
        "[]",
    ],
    ids=["action-null", "action-text", "action-fields-misused", "envelope-detail-text", "not-an-object"],
)
def test_a_message_of_another_shape_is_shown_and_does_not_stop_the_redrive_of_the_others(aws, capsys, dlq, body):
    queue, dead, _ = dlq
    aws.sqs.send_message(QueueUrl=dead, MessageBody=body)
    capsys.readouterr()
    assert bridgectl(["--stack", "bridge", "dlq", "show", "loops"], sqs=aws.sqs) == 0
    out = capsys.readouterr().out
    assert "4 message(s) in the loops DLQ" in out and "dee@example.com" not in out
    code, out = redrive(aws, capsys, "--event-type", "invoice.*")
    assert code == 0 and "redrove 2 message(s)" in out
    assert aws.count(dead) == 2


def test_dry_run_lists_the_selection_masked_and_moves_nothing(aws, capsys, dlq):
    queue, dead, _ = dlq
    code, out = redrive(aws, capsys, "--status", "400", "--dry-run")
    assert code == 0 and "would redrive 2 message(s)" in out
    assert "customer.created" in out and "invoice.paid" in out
    assert "@example.com" not in out
    assert aws.count(queue) == 0 and aws.count(dead) == 3


def test_a_choice_is_required(aws, capsys, dlq):
    assert redrive(aws, capsys)[0] == 2


def test_all_asks_sqs_to_move_the_messages_itself(aws, capsys, dlq):
    queue, dead, _ = dlq
    arn = {url: aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
           for url in (queue, dead)}  # fmt: skip
    with mock.patch.object(aws.sqs, "start_message_move_task", return_value={"TaskHandle": "task-1"}) as move:
        code, out = redrive(aws, capsys, "--all")
    assert code == 0 and "task-1" in out
    move.assert_called_once_with(SourceArn=arn[dead], DestinationArn=arn[queue])
    assert aws.count(dead) == 3  # SQS does the moving


def test_all_moves_one_by_one_where_sqs_cannot(aws, capsys, dlq):
    queue, dead, _ = dlq  # moto has no StartMessageMoveTask
    code, out = redrive(aws, capsys, "--all")
    assert code == 0 and "one by one" in out and "redrove 3 message(s)" in out
    assert len(moved(aws, queue)) == 3 and aws.count(dead) == 0


def test_a_message_moved_back_as_it_was_gets_a_fresh_retry_budget(aws, dlq):
    _, dead, _ = dlq
    (message, *_) = aws.receive_all(dead)
    # What StartMessageMoveTask brings back: the dead-letter attributes, as the delivery function receives them.
    attributes: dict[str, Any] = {
        name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
        for name, value in message["MessageAttributes"].items()
    }
    state = RetryState.from_attributes(attributes)
    assert (state.attempts, state.first_attempt_at, state.not_before) == (0, None, None)
    del attributes["failed_at"]  # a retry the delivery function re-enqueued keeps its budget
    assert RetryState.from_attributes(attributes).attempts == 30


def test_a_dlq_longer_than_a_page_is_shown_in_part_saying_so_and_redriven_whole(aws, capsys, dlq):
    queue, dead, _ = dlq
    for index in range(22):  # 25 in all: three receives of 10 at most
        aws.sqs.send_message(QueueUrl=dead, MessageBody=letter("invoice.paid", f"p{index}@example.com"))
    capsys.readouterr()
    assert bridgectl(["--stack", "bridge", "dlq", "show", "loops"], sqs=aws.sqs) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "20 of about 25 message(s) in the loops DLQ; --limit 25 shows them all"
    )
    assert bridgectl(["--stack", "bridge", "dlq", "show", "loops", "--limit", "25"], sqs=aws.sqs) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "25 message(s) in the loops DLQ"
    code, out = redrive(aws, capsys, "--all")
    assert code == 0 and "redrove 25 message(s)" in out
    assert len(aws.receive_all(queue)) == 25 and aws.count(dead) == 0


def test_a_message_dead_lettered_again_during_the_redrive_is_not_taken_again(aws, capsys, dlq):
    queue, dead, ops = dlq
    sent_back = []
    redrive_one = dlq_module.redrive

    def refused_again(sqs: Any, queues: Any, letter: Any) -> None:
        # The delivery function takes it at once, the vendor refuses it again: back in the DLQ with a new id.
        redrive_one(sqs, queues, letter)
        sent_back.append(json.loads(letter.body)["action"]["person"]["email"])
        ops.dead_letter(letter.body, RetryState(), FailureReport("BadRequestError (HTTP 400)", "BadRequestError", 400))

    with mock.patch.object(dlq_module, "redrive", refused_again):
        code, out = redrive(aws, capsys, "--all")
    assert code == 0 and "redrove 3 message(s)" in out
    assert sorted(sent_back) == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert aws.count(dead) == 3  # refused again, each once, for the operator to look at
