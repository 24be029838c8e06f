"""Lambda's SQS semantics against moto: batches, partial failures, retries, redrive to the DLQ."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.aws import AwsResources, client, create_resources
from devstack.event_sources import register_event_source
from devstack.functions import FunctionRuntime, InvocationResult
from devstack.poller import SqsPoller, failed_message_ids
from devstack.support.events import sqs_record
from devstack.support.moto import MotoServer
from devstack.template import load_template

from .conftest import DELIVERY_STUB, batches, wait_until

QUEUES = """
Resources:
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn
        maxReceiveCount: 5
  WorkDeadLetterQueue:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def queues(tmp_path: Path, moto: MotoServer, unique: str) -> Callable[..., AwsResources]:
    def create(**overrides: int) -> AwsResources:
        (tmp_path / "queues.yaml").write_text(QUEUES)
        template = load_template(tmp_path / "queues.yaml", stack_name=unique)
        if overrides:
            template = template.with_queue_overrides(**overrides)
        return create_resources(template, moto.endpoint)

    return create


@pytest.fixture
def pollers() -> Iterator[list[SqsPoller]]:
    started: list[SqsPoller] = []
    yield started
    for poller in started:
        poller.stop(timeout=5)


@pytest.fixture
def handler(runtime_factory: Any, tmp_path: Path) -> tuple[FunctionRuntime, Path]:
    out = tmp_path / "batches.jsonl"
    return runtime_factory(DELIVERY_STUB, env={"STUB_OUT": str(out)}, max_concurrency=1), out


def start_poller(
    pollers: list[SqsPoller], sqs: Any, resources: AwsResources, invoke: Callable[[dict[str, Any]], Any], **options: Any
) -> SqsPoller:
    queue = resources.queues["WorkQueue"]
    settings: dict[str, Any] = {"max_concurrency": 1, "report_batch_item_failures": True, "wait_time_seconds": 1}
    settings.update(options)
    poller = SqsPoller(
        function="Work",
        sqs=sqs,
        queue_url=queue.url,
        queue_arn=queue.arn,
        region="us-east-1",
        invoke=invoke,
        **settings,
    )
    pollers.append(poller.start())
    return poller


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def send(sqs: Any, url: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def idle_after_batches(poller: SqsPoller, count: int) -> Callable[[], bool]:
    return lambda: poller.stats.batches >= count and poller.stats.in_flight == 0


def test_partial_batch_failure_keeps_only_the_failed_messages(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller], handler: tuple[FunctionRuntime, Path]
) -> None:
    resources = queues(visibility_timeout=2)
    url = resources.queues["WorkQueue"].url
    send(sqs, url, "ok-1", "fail-2", "ok-3", "fail-4", "ok-5")
    runtime, out = handler
    poller = start_poller(pollers, sqs, resources, runtime.invoke, batch_size=10)
    assert wait_until(idle_after_batches(poller, 1), timeout=20)
    poller.stop()
    assert batches(out)[0] == ["ok-1", "fail-2", "ok-3", "fail-4", "ok-5"]  # one batch, in order
    assert (poller.stats.deleted, poller.stats.reported_failures) == (3, 2)
    assert counts(sqs, url) == (0, 2)
    # Once their visibility timeout passes, the failed ones (and only they) are back.
    again: list[str] = []

    def both_back() -> bool:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        again.extend(m["Body"] for m in response.get("Messages", []))
        return len(again) >= 2

    assert wait_until(both_back, timeout=15)
    assert sorted(again) == ["fail-2", "fail-4"]


def test_exception_deletes_nothing(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller], handler: tuple[FunctionRuntime, Path]
) -> None:
    resources = queues()
    url = resources.queues["WorkQueue"].url
    send(sqs, url, "ok-1", "raise-2", "ok-3")
    runtime, _ = handler
    poller = start_poller(pollers, sqs, resources, runtime.invoke)
    assert wait_until(idle_after_batches(poller, 1), timeout=20)
    assert poller.stats.failed_invocations == 1
    assert poller.stats.deleted == 0
    assert counts(sqs, url) == (0, 3)  # all in flight until the visibility timeout


def test_redrive_to_the_dead_letter_queue_after_max_receive_count(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller], handler: tuple[FunctionRuntime, Path]
) -> None:
    resources = queues(visibility_timeout=1, max_receive_count=2)
    url, dlq = resources.queues["WorkQueue"].url, resources.queues["WorkDeadLetterQueue"].url
    send(sqs, url, "raise-always")
    runtime, out = handler
    start_poller(pollers, sqs, resources, runtime.invoke)
    assert wait_until(lambda: counts(sqs, dlq)[0] == 1, timeout=30)
    assert counts(sqs, url) == (0, 0)
    assert batches(out) == [["raise-always"], ["raise-always"]]  # exactly maxReceiveCount attempts
    moved = sqs.receive_message(QueueUrl=dlq)["Messages"][0]
    assert moved["Body"] == "raise-always"


def test_invalid_batch_item_failures_fail_the_whole_batch(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller]
) -> None:
    resources = queues()
    url = resources.queues["WorkQueue"].url
    send(sqs, url, "a", "b")
    poller = start_poller(
        pollers,
        sqs,
        resources,
        lambda event: InvocationResult("r", ok=True, payload={"batchItemFailures": [{"itemIdentifier": "unknown"}]}),
    )
    assert wait_until(idle_after_batches(poller, 1), timeout=20)
    assert poller.stats.deleted == 0
    assert counts(sqs, url) == (0, 2)


def test_without_report_batch_item_failures_success_deletes_everything(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller], handler: tuple[FunctionRuntime, Path]
) -> None:
    resources = queues()
    url = resources.queues["WorkQueue"].url
    send(sqs, url, "ok", "fail-but-not-reported")
    runtime, _ = handler
    poller = start_poller(pollers, sqs, resources, runtime.invoke, report_batch_item_failures=False)
    assert wait_until(lambda: poller.stats.deleted == 2, timeout=20)
    assert counts(sqs, url) == (0, 0)


def test_batching_window_gathers_until_the_batch_is_full(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller]
) -> None:
    resources = queues()
    url = resources.queues["WorkQueue"].url
    batches: list[list[str]] = []

    def invoke(event: dict[str, Any]) -> InvocationResult:
        batches.append([r["body"] for r in event["Records"]])
        return InvocationResult("r", ok=True)

    poller = start_poller(pollers, sqs, resources, invoke, batch_size=3, batching_window_seconds=15)
    send(sqs, url, "first")
    assert wait_until(lambda: counts(sqs, url) == (0, 1), timeout=20)  # the poller holds it, gathering
    assert batches == []
    send(sqs, url, "second", "third")
    assert wait_until(lambda: poller.stats.deleted == 3, timeout=10)  # full: no need to wait out the window
    assert batches == [["first", "second", "third"]]


def test_concurrency_is_the_event_source_maximum(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller]
) -> None:
    resources = queues()
    url = resources.queues["WorkQueue"].url
    lock, gate = threading.Lock(), threading.Event()
    active, peak = [0], [0]

    def invoke(event: dict[str, Any]) -> InvocationResult:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        gate.wait(timeout=20)
        with lock:
            active[0] -= 1
        return InvocationResult("r", ok=True)

    send(sqs, url, *[f"m{i}" for i in range(6)])
    poller = start_poller(pollers, sqs, resources, invoke, batch_size=1, max_concurrency=2)
    assert wait_until(lambda: active[0] == 2, timeout=20)
    assert poller.stats.in_flight == 2
    gate.set()
    assert wait_until(lambda: poller.stats.deleted == 6, timeout=20)
    assert peak[0] == 2


def test_stop_does_not_wait_for_an_idle_long_poll(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller]
) -> None:
    resources = queues()
    poller = start_poller(pollers, sqs, resources, lambda e: InvocationResult("r", ok=True), wait_time_seconds=20)
    finished = threading.Event()

    def stop() -> None:
        poller.stop()
        finished.set()

    threading.Thread(target=stop, daemon=True).start()
    assert finished.wait(timeout=2)


def test_record_shape() -> None:
    message = {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "MD5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "MD5OfMessageAttributes": "00484c68...59e48fb7",
        "Body": "Test message.",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        "MessageAttributes": {
            "kind": {"StringValue": "identify", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    assert record == {
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        "body": "Test message.",
        "attributes": message["Attributes"],
        "messageAttributes": {
            "kind": {"stringValue": "identify", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        },
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "md5OfMessageAttributes": "00484c68...59e48fb7",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def test_records_from_moto_carry_lambdas_attributes(
    sqs: Any, queues: Callable[..., AwsResources], pollers: list[SqsPoller]
) -> None:
    resources = queues()
    queue = resources.queues["WorkQueue"]
    sqs.send_message(
        QueueUrl=queue.url,
        MessageBody="hello",
        MessageAttributes={"vendor": {"DataType": "String", "StringValue": "loops"}},
    )
    events: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> InvocationResult:
        events.append(event)
        return InvocationResult("r", ok=True)

    poller = start_poller(pollers, sqs, resources, invoke)
    assert wait_until(lambda: poller.stats.deleted == 1, timeout=20)
    (record,) = events[0]["Records"]
    assert record["eventSourceARN"] == queue.arn
    assert record["messageAttributes"]["vendor"]["stringValue"] == "loops"
    assert {"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} <= set(
        record["attributes"]
    )
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"  # md5("hello")


def test_failed_message_ids_rules() -> None:
    ids = {"a", "b"}
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({}, ids) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": None}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": None}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"id": "a"}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_message_ids("not an object", ids) is None


def test_a_disabled_event_source_mapping_leaves_messages_in_the_queue_until_enabled(
    sqs: Any,
    moto: MotoServer,
    queues: Callable[..., AwsResources],
    pollers: list[SqsPoller],
    handler: tuple[FunctionRuntime, Path],
) -> None:
    resources = queues()
    queue = resources.queues["WorkQueue"]
    lambda_client = client("lambda", moto.endpoint, "us-east-1")
    mapping = register_event_source(
        lambda_client, client("iam", moto.endpoint, "us-east-1"), "work", queue.arn, 10, True
    )
    runtime, out = handler
    poller = start_poller(pollers, sqs, resources, runtime.invoke, enabled=mapping)
    lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=False)  # bridgectl vendor pause
    assert wait_until(lambda: poller.paused, timeout=5)
    send(sqs, queue.url, "waits-1", "waits-2")
    # Neither the poller nor moto itself (it would invoke the function for a mapping) takes them.
    assert not wait_until(lambda: poller.stats.batches > 0, timeout=2.5)
    assert counts(sqs, queue.url) == (2, 0)
    (listed,) = lambda_client.list_event_source_mappings(EventSourceArn=queue.arn)["EventSourceMappings"]
    assert listed["State"] == "Disabled"
    lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=True)  # bridgectl vendor resume
    assert wait_until(lambda: poller.stats.deleted == 2, timeout=20)
    assert sorted(body for batch in batches(out) for body in batch) == ["waits-1", "waits-2"]
