"""Lambda's SQS event source mapping, locally.

Per event source, ``max_concurrency`` pollers each long-poll the queue, gather a batch
(up to BatchSize, within MaximumBatchingWindowInSeconds), invoke the function with
Lambda's SQS event, and delete what succeeded:

- no ReportBatchItemFailures: a successful invocation deletes the whole batch;
- with it: everything except the ``batchItemFailures``; an invalid response (unknown
  or empty ``itemIdentifier``, not an object) fails the whole batch, as in Lambda;
- a failed invocation (exception, timeout, crash) deletes nothing: the messages
  reappear after the queue's visibility timeout, and SQS's redrive policy moves them
  to the DLQ after ``maxReceiveCount`` receives (moto implements redrive on receive).

One poller runs at most one invocation at a time, so the number of pollers is the
event source's concurrency limit (ScalingConfig.MaximumConcurrency).

The mappings themselves exist in the emulated Lambda API, their state only, so that
``bridgectl vendor pause/resume`` finds and changes them as on AWS; each poller follows its
mapping's state. moto itself must never invoke a function from SQS (``devstack.support.moto``).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.functions import InvocationResult
from devstack.support.events import sqs_batch

log = logging.getLogger("devstack.poller")

MAX_MESSAGES_PER_RECEIVE = 10  # SQS's limit; larger batches are gathered over several receives
LAMBDA_WAIT_TIME_SECONDS = 20  # Lambda's pollers long-poll with the maximum wait
SHORT_POLL_INTERVAL = 0.05  # between short polls in the last fraction of a second of a batching window
ERROR_BACKOFF_SECONDS = 1.0
PAUSED_CHECK_SECONDS = 0.5
DEFAULT_MAXIMUM_CONCURRENCY = 5  # Lambda starts with 5 pollers when ScalingConfig is not set

# A mapping's state is read at most this often per poller: pause and resume act within it.
MAPPING_STATE_TTL_SECONDS = 0.5
LOCAL_FUNCTION_ROLE = "devstack-local-function"
_RUNNING_STATES = ("Enabled", "Enabling", "Updating")


class EventSourceMappingState:
    """Whether an event source mapping is enabled, as ``bridgectl vendor pause/resume`` leave it."""

    def __init__(self, lambda_client: Any, uuid: str) -> None:
        self.uuid = uuid
        self._lambda = lambda_client
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._enabled = True

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at >= MAPPING_STATE_TTL_SECONDS:
                try:
                    state = self._lambda.get_event_source_mapping(UUID=self.uuid)["State"]
                    self._enabled = state in _RUNNING_STATES
                except Exception as error:  # the emulator stopping: keep the last known state
                    log.debug("event source mapping %s: %s", self.uuid, error)
                self._checked_at = time.monotonic()
            return self._enabled


def register_event_source(
    lambda_client: Any, iam: Any, function_name: str, queue_arn: str, batch_size: int
) -> EventSourceMappingState:
    """The function (an empty package: moto never runs it) and its mapping, so that the Lambda
    API answers ``list_event_source_mappings``/``update_event_source_mapping`` as on AWS."""
    try:
        lambda_client.get_function(FunctionName=function_name)
    except lambda_client.exceptions.ResourceNotFoundException:
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", "")
        lambda_client.create_function(
            FunctionName=function_name,
            Runtime="python3.12",
            Role=_local_role(iam),
            Handler="app.lambda_handler",
            Code={"ZipFile": package.getvalue()},
        )
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=function_name, BatchSize=batch_size, Enabled=True
    )
    return EventSourceMappingState(lambda_client, mapping["UUID"])


def _local_role(iam: Any) -> str:
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    try:
        return str(iam.get_role(RoleName=LOCAL_FUNCTION_ROLE)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName=LOCAL_FUNCTION_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        )


Invoke = Callable[[dict[str, Any]], InvocationResult]


@dataclass
class PollerStats:
    batches: int = 0
    messages: int = 0
    deleted: int = 0
    reported_failures: int = 0  # items in batchItemFailures
    failed_invocations: int = 0  # the whole batch stayed on the queue
    in_flight: int = 0  # invocations running now


class SqsPoller:
    """Feeds one function from one queue with Lambda's batching and partial-failure semantics."""

    def __init__(
        self,
        *,
        function: str,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        invoke: Invoke,
        batch_size: int = 10,
        batching_window_seconds: float = 0,
        max_concurrency: int | None = None,
        report_batch_item_failures: bool = False,
        wait_time_seconds: int = LAMBDA_WAIT_TIME_SECONDS,
        enabled: Callable[[], bool] = lambda: True,
    ) -> None:
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.batch_size = max(1, batch_size)
        self.batching_window_seconds = max(0.0, batching_window_seconds)
        self.max_concurrency = max(1, max_concurrency or DEFAULT_MAXIMUM_CONCURRENCY)
        self.report_batch_item_failures = report_batch_item_failures
        self.wait_time_seconds = wait_time_seconds
        self.stats = PollerStats()
        self._enabled = enabled  # the event source mapping's state (bridgectl vendor pause/resume)
        self._paused_threads = 0
        self._sqs = sqs
        self._invoke = invoke
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def paused(self) -> bool:
        """Every poller has seen its mapping disabled: nothing more is received until it is enabled."""
        with self._lock:
            return bool(self._threads) and self._paused_threads == len(self._threads)

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]

    def start(self) -> SqsPoller:
        for index in range(self.max_concurrency):
            thread = threading.Thread(target=self._run, name=f"{self.function}:poller-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling; wait for invocations in progress to finish and delete their messages.

        Pollers idle in a long poll are not waited for: they exit when the receive
        returns (or fails because the emulator stopped) without invoking anything.
        """
        self._stop.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.stats.in_flight and time.monotonic() < deadline:
                self._lock.wait(timeout=deadline - time.monotonic())

    # -- polling -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._enabled():
                # Messages wait in the queue. A batch received before the pause was seen is still
                # processed, as Lambda does while a mapping is Disabling: releasing it would count a receive.
                with self._lock:
                    self._paused_threads += 1
                self._stop.wait(PAUSED_CHECK_SECONDS)
                with self._lock:
                    self._paused_threads -= 1
                continue
            try:
                batch = self._gather()
            except Exception as error:
                if self._stop.is_set():
                    return
                log.warning("%s: receiving from %s failed: %s", self.function, self.queue_name, error)
                self._stop.wait(ERROR_BACKOFF_SECONDS)
                continue
            if not batch:
                continue
            with self._lock:
                if self._stop.is_set():
                    return  # the messages reappear after their visibility timeout
                self.stats.in_flight += 1
            try:
                self._process(batch)
            except Exception:
                log.exception("%s: processing a batch from %s failed", self.function, self.queue_name)
            finally:
                with self._lock:
                    self.stats.in_flight -= 1
                    self._lock.notify_all()

    def _gather(self) -> list[dict[str, Any]]:
        batch = self._receive(min(self.batch_size, MAX_MESSAGES_PER_RECEIVE), self.wait_time_seconds)
        if not batch or self.batching_window_seconds <= 0:
            return batch
        # Lambda keeps gathering until the batch is full or the window has passed.
        deadline = time.monotonic() + self.batching_window_seconds
        while len(batch) < self.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(int(remaining), LAMBDA_WAIT_TIME_SECONDS)  # SQS waits in whole seconds
            more = self._receive(min(self.batch_size - len(batch), MAX_MESSAGES_PER_RECEIVE), wait)
            batch.extend(more)
            if not more and wait == 0:
                self._stop.wait(min(remaining, SHORT_POLL_INTERVAL))
        return batch

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _process(self, batch: list[dict[str, Any]]) -> None:
        event = sqs_batch(batch, self.queue_arn, self.region)
        with self._lock:
            self.stats.batches += 1
            self.stats.messages += len(batch)
        result = self._invoke(event)
        ids = {m["MessageId"] for m in batch}
        failed = failed_message_ids(result.payload, ids) if result.ok and self.report_batch_item_failures else set()
        if not result.ok or failed is None:
            with self._lock:
                self.stats.failed_invocations += 1
            why = f"invalid batchItemFailures {result.payload!r}" if result.ok else f"failed ({result.error_type})"
            log.warning("%s: %s; %d message(s) wait out their visibility timeout", self.function, why, len(batch))
            return
        with self._lock:
            self.stats.reported_failures += len(failed)
        self._delete([m for m in batch if m["MessageId"] not in failed])
        log.info("%s: batch of %d from %s, %d retried", self.function, len(batch), self.queue_name, len(failed))

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), MAX_MESSAGES_PER_RECEIVE):
            chunk = messages[start : start + MAX_MESSAGES_PER_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            with self._lock:
                self.stats.deleted += len(response.get("Successful", []))
            for failure in response.get("Failed", []):
                log.warning("%s: could not delete a message: %s", self.function, failure.get("Message"))


def failed_message_ids(payload: Any, batch_ids: set[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response asks to retry.

    ``None`` means Lambda would treat the response as invalid and fail the whole batch.
    An empty or null response, or an empty/null ``batchItemFailures``, is complete success.
    """
    if payload is None:
        return set()
    if not isinstance(payload, dict):
        return None
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return None
        failed.add(identifier)
    return failed
