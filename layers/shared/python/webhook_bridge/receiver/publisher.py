"""Putting vendor messages on their queues, one ``SendMessageBatch`` per queue and batch of 10."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from typing import Any

from webhook_bridge.actions import VendorMessage
from webhook_bridge.receiver.exceptions import QueueUnavailableError
from webhook_bridge.vendors.catalog import Vendor, vendors

SQS_BATCH_LIMIT = 10


@cache
def sqs_client() -> Any:
    import boto3  # lazy: only the hot path that publishes needs it

    return boto3.client("sqs")


def message_attributes(message: VendorMessage, enqueued_at: float) -> dict[str, Any]:
    return {
        "enqueued_at": {"DataType": "Number", "StringValue": f"{enqueued_at:.3f}"},
        "source_event_type": {"DataType": "String", "StringValue": message.action.source_event_type},
    }


def publish(
    messages: Iterable[VendorMessage],
    queue_url: Callable[[Vendor], str],
    client: Any | None = None,
) -> int:
    """Send every message; raise ``QueueUnavailableError`` unless SQS accepted all of them."""
    sqs = client or sqs_client()
    by_queue: dict[str, list[VendorMessage]] = defaultdict(list)
    for message in messages:
        by_queue[queue_url(message.vendor)].append(message)
    now = time.time()
    batches = [
        (url, [_entry(index, message, now) for index, message in enumerate(queued[start : start + SQS_BATCH_LIMIT])])
        for url, queued in by_queue.items()
        for start in range(0, len(queued), SQS_BATCH_LIMIT)
    ]
    if len(batches) == 1:
        _send_all(sqs, *batches[0])
    else:
        # One round trip instead of one per vendor queue: the webhook waits for all of them.
        # Every batch is awaited, so a failure of any still makes the webhook answer 5xx, and
        # only once all have ended: no batch may still be sent after that answer.
        futures = [_senders().submit(_send_all, sqs, url, entries) for url, entries in batches]
        wait(futures)
        for future in futures:
            future.result()
    return sum(len(entries) for _, entries in batches)


def _entry(index: int, message: VendorMessage, now: float) -> dict[str, Any]:
    return {
        "Id": str(index),
        "MessageBody": message.model_dump_json(),
        "MessageAttributes": message_attributes(message, now),
    }


@cache
def _senders() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=len(vendors()), thread_name_prefix="enqueue")


def _send_all(sqs: Any, url: str, entries: list[dict[str, Any]]) -> None:
    # One retry of the failed entries covers SQS's occasional per-entry hiccups;
    # anything more is the provider's job (it retries on our 5xx).
    for _ in range(2):
        try:
            response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        except Exception as exc:  # botocore errors: the queue is unreachable
            raise QueueUnavailableError("the queue did not accept the messages") from exc
        failed_ids = {failure["Id"] for failure in response.get("Failed", [])}
        if not failed_ids:
            return
        entries = [entry for entry in entries if entry["Id"] in failed_ids]
    raise QueueUnavailableError(f"the queue refused {len(entries)} message(s)")
