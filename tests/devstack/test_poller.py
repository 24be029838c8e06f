"""Lambda's SQS semantics against moto: batches, partial failures, retries, redrive to the DLQ."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.aws import AwsResources, client, create_resources
from devstack.functions import FunctionRuntime, InvocationResult
from devstack.poller import SqsPoller, failed_message_ids, register_event_source
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


@dataclass
class Work:
    """The work queue and its dead-letter queue in moto, and the pollers started on it."""

    sqs: Any
    resources: AwsResources
    pollers: list[SqsPoller]

    @property
    def url(self) -> str:
        return self.resources.queues["WorkQueue"].url

    @property
    def arn(self) -> str:
        return self.resources.queues["WorkQueue"].arn

    @property
    def dlq(self) -> str:
        return self.resources.queues["WorkDeadLetterQueue"].url

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def counts(self, url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) in the work queue, or in the queue at ``url``."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url or self.url, AttributeNames=names)["Attributes"]
        return int(attributes[names[0]]), int(attributes[names[1]])

    def start(self, invoke: Callable[[dict[str, Any]], Any], **options: Any) -> SqsPoller:
        """A poller feeding ``invoke``: one at a time, reporting batch item failures, unless ``options`` say."""
        settings: dict[str, Any] = {"max_concurrency": 1, "report_batch_item_failures": True, "wait_time_seconds": 1}
        poller = SqsPoller(
            function="Work",
            sqs=self.sqs,
            queue_url=self.url,
            queue_arn=self.arn,
            region="us-east-1",
            invoke=invoke,
            **(settings | options),
        )
        self.pollers.append(poller.start())
        return poller


NewWork = Callable[..., Work]
Handler = tuple[FunctionRuntime, Path]  # the delivery stub, and the file it writes its batches to


@pytest.fixture
def work(tmp_path: Path, moto: MotoServer, sqs: Any, unique: str) -> Iterator[NewWork]:
    """``work(**queue_overrides)``: new queues; every poller started on them is stopped at the end."""
    pollers: list[SqsPoller] = []

    def create(**overrides: int) -> Work:
        (tmp_path / "queues.yaml").write_text(QUEUES)
        template = load_template(tmp_path / "queues.yaml", stack_name=unique)
        if overrides:
            template = template.with_queue_overrides(**overrides)
        return Work(sqs, create_resources(template, moto.endpoint), pollers)

    yield create
    for poller in pollers:
        poller.stop(timeout=5)


@pytest.fixture
def handler(runtime_factory: Any, tmp_path: Path) -> Handler:
    out = tmp_path / "batches.jsonl"
    return runtime_factory(DELIVERY_STUB, env={"STUB_OUT": str(out)}, max_concurrency=1), out


def recording(into: list[dict[str, Any]]) -> Callable[[dict[str, Any]], InvocationResult]:
    """An invoke that keeps each event in ``into`` and succeeds."""

    def invoke(event: dict[str, Any]) -> InvocationResult:
        into.append(event)
        return InvocationResult("r", ok=True)

    return invoke


def idle_after_batches(poller: SqsPoller, count: int) -> Callable[[], bool]:
    return lambda: poller.stats.batches >= count and poller.stats.in_flight == 0


def test_partial_batch_failure_keeps_only_the_failed_messages(work: NewWork, handler: Handler) -> None:
    queue = work(visibility_timeout=2)
    queue.send("ok-1", "fail-2", "ok-3", "fail-4", "ok-5")
    runtime, out = handler
    poller = queue.start(runtime.invoke, batch_size=10)
    assert wait_until(idle_after_batches(poller, 1), timeout=20)
    poller.stop()
    assert batches(out)[0] == ["ok-1", "fail-2", "ok-3", "fail-4", "ok-5"]  # one batch, in order
    assert (poller.stats.deleted, poller.stats.reported_failures) == (3, 2)
    assert queue.counts() == (0, 2)
    # Once their visibility timeout passes, the failed ones (and only they) are back.
    again: list[str] = []

    def both_back() -> bool:
        response = queue.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        again.extend(m["Body"] for m in response.get("Messages", []))
        return len(again) >= 2

    assert wait_until(both_back, timeout=15)
    assert sorted(again) == ["fail-2", "fail-4"]


def test_redrive_to_the_dead_letter_queue_after_max_receive_count(work: NewWork, handler: Handler) -> None:
    queue = work(visibility_timeout=1, max_receive_count=2)
    queue.send("raise-always")
    runtime, out = handler
    queue.start(runtime.invoke)
    assert wait_until(lambda: queue.counts(queue.dlq)[0] == 1, timeout=30)
    assert queue.counts() == (0, 0)
    assert batches(out) == [["raise-always"], ["raise-always"]]  # exactly maxReceiveCount attempts
    moved = queue.sqs.receive_message(QueueUrl=queue.dlq)["Messages"][0]
    assert moved["Body"] == "raise-always"


@pytest.mark.parametrize(
    "result",
    [
        InvocationResult("r", ok=False, error={"errorType": "RuntimeError"}),  # an exception, timeout or crash
        InvocationResult("r", ok=True, payload={"batchItemFailures": [{"itemIdentifier": "unknown"}]}),  # invalid
    ],
    ids=["failed-invocation", "invalid-batch-item-failures"],
)
def test_a_failed_batch_deletes_nothing(work: NewWork, result: InvocationResult) -> None:
    queue = work()
    queue.send("a", "b", "c")
    poller = queue.start(lambda event: result)
    assert wait_until(idle_after_batches(poller, 1), timeout=20)
    assert (poller.stats.failed_invocations, poller.stats.deleted) == (1, 0)
    assert queue.counts() == (0, 3)  # all in flight until the visibility timeout


def test_without_report_batch_item_failures_success_deletes_everything(work: NewWork, handler: Handler) -> None:
    queue = work()
    queue.send("ok", "fail-but-not-reported")
    runtime, _ = handler
    poller = queue.start(runtime.invoke, report_batch_item_failures=False)
    assert wait_until(lambda: poller.stats.deleted == 2, timeout=20)
    assert queue.counts() == (0, 0)


def test_batching_window_gathers_until_the_batch_is_full(work: NewWork) -> None:
    queue = work()
    events: list[dict[str, Any]] = []
    poller = queue.start(recording(events), batch_size=3, batching_window_seconds=15)
    queue.send("first")
    assert wait_until(lambda: queue.counts() == (0, 1), timeout=20)  # the poller holds it, gathering
    assert events == []
    queue.send("second", "third")
    assert wait_until(lambda: poller.stats.deleted == 3, timeout=10)  # full: no need to wait out the window
    assert [[r["body"] for r in event["Records"]] for event in events] == [["first", "second", "third"]]


def test_concurrency_is_the_event_source_maximum(work: NewWork) -> None:
    queue = work()
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

    queue.send(*[f"m{i}" for i in range(6)])
    poller = queue.start(invoke, batch_size=1, max_concurrency=2)
    assert wait_until(lambda: active[0] == 2, timeout=20)
    assert poller.stats.in_flight == 2
    gate.set()
    assert wait_until(lambda: poller.stats.deleted == 6, timeout=20)
    assert peak[0] == 2


def test_stop_does_not_wait_for_an_idle_long_poll(work: NewWork) -> None:
    poller = work().start(lambda e: InvocationResult("r", ok=True), wait_time_seconds=20)
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


def test_records_from_moto_carry_lambdas_attributes(work: NewWork) -> None:
    queue = work()
    attributes = {"vendor": {"DataType": "String", "StringValue": "loops"}}
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody="hello", MessageAttributes=attributes)
    events: list[dict[str, Any]] = []
    poller = queue.start(recording(events))
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
    moto: MotoServer, work: NewWork, handler: Handler
) -> None:
    queue = work()
    lambda_client = client("lambda", moto.endpoint, "us-east-1")
    mapping = register_event_source(lambda_client, client("iam", moto.endpoint, "us-east-1"), "work", queue.arn, 10)
    runtime, out = handler
    poller = queue.start(runtime.invoke, enabled=mapping)
    lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=False)  # bridgectl vendor pause
    assert wait_until(lambda: poller.paused, timeout=5)
    queue.send("waits-1", "waits-2")
    # Neither the poller nor moto itself (it would invoke the function for a mapping) takes them.
    assert not wait_until(lambda: poller.stats.batches > 0, timeout=2.5)
    assert queue.counts() == (2, 0)
    (listed,) = lambda_client.list_event_source_mappings(EventSourceArn=queue.arn)["EventSourceMappings"]
    assert listed["State"] == "Disabled"
    lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=True)  # bridgectl vendor resume
    assert wait_until(lambda: poller.stats.deleted == 2, timeout=20)
    assert sorted(body for batch in batches(out) for body in batch) == ["waits-1", "waits-2"]
