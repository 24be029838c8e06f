"""Reading and redriving a vendor's dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from webhook_bridge.ops.queues import VendorQueues
from webhook_bridge.privacy import mask_data, mask_text
from webhook_bridge.receiver.eventbridge import is_eventbridge_envelope

# Long enough to read and redrive a page; short enough that an interrupted run
# leaves the messages visible again soon.
PEEK_VISIBILITY_SECONDS = 30
RESET_ON_REDRIVE = ("attempts", "identity_waits", "first_attempt_at", "not_before", "last_error")
FAILURE_ATTRIBUTES = ("failure_reason", "failure_class", "failure_status", "failed_at")


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, Any]
    receive_count: int
    sent_at: float | None = None  # when it entered the DLQ (SentTimestamp), in seconds

    @property
    def reason(self) -> str:
        value = self.attributes.get("failure_reason", {}).get("StringValue")
        return value or "crashed repeatedly (redrive policy)"

    @property
    def failed_at(self) -> float | None:
        """When the delivery dead-lettered it, else when it reached the DLQ."""
        value = self.attributes.get("failed_at", {}).get("StringValue")
        return float(value) if value else self.sent_at

    def summary(self) -> dict[str, Any]:
        try:
            payload: Any = json.loads(self.body)
        except ValueError:
            payload = self.body
        action_id, event_type = _named(payload)
        return {
            "message_id": self.message_id,
            "action_id": action_id,
            "event_type": event_type,
            "reason": self.reason,
            "class": self.attributes.get("failure_class", {}).get("StringValue"),
            "status": self.attributes.get("failure_status", {}).get("StringValue"),
            "attempts": self.attributes.get("attempts", {}).get("StringValue", "0"),
            "receive_count": self.receive_count,
            "failed_at": self.failed_at,
            "body": mask_data(payload),
        }


def _named(payload: Any) -> tuple[str | None, str | None]:
    """The action id and event type a message names, masked; none for a message of another shape
    (hand-sent, malformed): a DLQ is where such messages end, and each must still be shown."""
    action: Any = payload.get("action") if isinstance(payload, dict) else None
    if is_eventbridge_envelope(payload):  # the Stripe events queue holds whole events, not actions
        detail = payload["detail"]
        action = {
            "id": detail.get("id") if isinstance(detail, dict) else None,
            "source_event_type": payload["detail-type"],
        }
    if not isinstance(action, dict):
        return None, None
    return _masked(action.get("id")), _masked(action.get("source_event_type"))


def _masked(value: Any) -> str | None:
    return mask_text(value) if isinstance(value, str) else None


def counts(sqs: Any, queues: VendorQueues) -> dict[str, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    queue = sqs.get_queue_attributes(QueueUrl=queues.queue_url, AttributeNames=names)["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=names[:1])["Attributes"]
    return {
        "queued": int(queue.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(queue.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(queue.get("ApproximateNumberOfMessagesDelayed", 0)),
        "dead_lettered": int(dlq.get("ApproximateNumberOfMessages", 0)),
    }


def read(sqs: Any, dlq_url: str, limit: int) -> Iterator[DeadLetter]:
    """Receive up to ``limit`` messages; they stay in the DLQ unless deleted."""
    seen: set[str] = set()
    while len(seen) < limit:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            WaitTimeSeconds=1,
        )
        batch = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not batch:
            return
        for message in batch:
            seen.add(message["MessageId"])
            system = message.get("Attributes", {})
            yield DeadLetter(
                message_id=message["MessageId"],
                receipt_handle=message["ReceiptHandle"],
                body=message["Body"],
                attributes=message.get("MessageAttributes", {}),
                receive_count=int(system.get("ApproximateReceiveCount", 0)),
                sent_at=int(system["SentTimestamp"]) / 1000 if "SentTimestamp" in system else None,
            )


def release(sqs: Any, dlq_url: str, letters: list[DeadLetter]) -> None:
    """Make peeked messages visible again at once."""
    for letter in letters:
        sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0)


def redrive(sqs: Any, queues: VendorQueues, letter: DeadLetter) -> None:
    """Back to the vendor's queue with a fresh retry budget; deleted from the DLQ only once sent."""
    attributes = {
        name: value
        for name, value in letter.attributes.items()
        if name not in RESET_ON_REDRIVE and name not in FAILURE_ATTRIBUTES
    }
    sqs.send_message(QueueUrl=queues.queue_url, MessageBody=letter.body, MessageAttributes=attributes)
    sqs.delete_message(QueueUrl=queues.dlq_url, ReceiptHandle=letter.receipt_handle)


def start_move_task(sqs: Any, queues: VendorQueues) -> str:
    """Every DLQ message back to the queue with SQS's own StartMessageMoveTask; its task handle.

    The messages keep their attributes; the delivery function gives a message that still
    carries ``failed_at`` a fresh retry budget (``RetryState.from_attributes``)."""
    arns = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (queues.dlq_url, queues.queue_url)
    }
    task = sqs.start_message_move_task(SourceArn=arns[queues.dlq_url], DestinationArn=arns[queues.queue_url])
    return str(task["TaskHandle"])
