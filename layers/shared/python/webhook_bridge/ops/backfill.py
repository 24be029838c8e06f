"""Backfill and first import: Stripe objects read from its API, through the receivers' pipeline.

Both put Stripe events on the Stripe events queue in the envelope EventBridge uses, so
the Stripe EventBridge consumer runs them through ``Receiver.accept`` — the path the
webhook shares: deduplication on the event id, mapping, fan-out. Nothing here maps.

``backfill`` replays Stripe's own events (``/v1/events`` keeps 30 days), oldest first.
``import`` has no events to replay, so it synthesizes one per object in the shape of
``customer.updated`` and ``customer.subscription.updated`` (docs/mapping.md explains why):
- the id is derived from the object's content, so re-running an import of unchanged
  objects is deduplicated like a retried webhook, and a changed object is sent again;
- ``created`` is the moment the list was read: the state is true as of then, so a webhook
  created later (newer state) outranks it in the ordering guard, and one created earlier
  (state the read already saw) does not override it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from webhook_bridge.exceptions import BridgeError
from webhook_bridge.observability import aws_error_code
from webhook_bridge.providers.stripe.emitter import IMPORTED_EVENT_PREFIX
from webhook_bridge.receiver.eventbridge import envelope_for
from webhook_bridge.settings import environment_value

SQS_BATCH_LIMIT = 10
IMPORTED_TYPES = {"customer": "customer.updated", "subscription": "customer.subscription.updated"}


class QueueRefusedError(BridgeError, RuntimeError):
    pass


def imported_event(obj: dict[str, Any], read_at: int, api_version: str | None = None) -> dict[str, Any]:
    """The event a Stripe customer or subscription is imported as."""
    event_type = IMPORTED_TYPES[str(obj.get("object"))]
    content = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest = hashlib.sha256(content).hexdigest()[:24]
    return {
        "id": f"{IMPORTED_EVENT_PREFIX}{digest}",
        "object": "event",
        "api_version": api_version,
        "created": read_at,
        "type": event_type,
        "livemode": bool(obj.get("livemode", False)),
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def oldest_first(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stripe lists newest first; replaying in creation order lets each state follow the one before."""
    return sorted(events, key=lambda event: int(event.get("created") or 0))


def count_types(events: Iterable[dict[str, Any]]) -> Counter[str]:
    return Counter(str(event.get("type")) for event in events)


def batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(events), SQS_BATCH_LIMIT):
        yield events[start : start + SQS_BATCH_LIMIT]


def enqueue(
    sqs: Any, queue_url: str, events: list[dict[str, Any]], on_sent: Callable[[int], object] = lambda _: None
) -> int:
    """Each event, in its EventBridge envelope, on the Stripe events queue (as the rule puts it there)."""
    sent = 0
    for batch in batches(events):
        entries = [
            {"Id": str(index), "MessageBody": json.dumps(envelope_for(event), ensure_ascii=False)}
            for index, event in enumerate(batch)
        ]
        refused = _refused(sqs, queue_url, entries)
        if refused:
            raise QueueRefusedError(f"the Stripe events queue refused messages after {sent} were sent ({refused})")
        sent += len(batch)
        on_sent(len(batch))
    return sent


def _refused(sqs: Any, queue_url: str, entries: list[dict[str, str]]) -> str | None:
    """One batch, the entries SQS failed tried once more; the error codes of what it still refused."""
    try:
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            retry = [entry for entry in entries if entry["Id"] in {f["Id"] for f in failed}]
            failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=retry).get("Failed", [])
    except (ClientError, BotoCoreError) as error:
        # The code only: botocore's messages can repeat what was sent.
        return aws_error_code(error) or type(error).__name__
    return ", ".join(sorted({str(failure.get("Code")) for failure in failed})) or None


def stripe_api_key(stack: str, client: Callable[[str], Any]) -> str | None:
    """``STRIPE_API_KEY`` from the environment, else from the stack's ``StripeApiSecret`` (Secrets Manager)."""
    from_environment = environment_value("STRIPE_API_KEY")
    if from_environment:
        return from_environment
    try:
        resource = client("cloudformation").describe_stack_resource(
            StackName=stack, LogicalResourceId="StripeApiSecret"
        )["StackResourceDetail"]
        secret = client("secretsmanager").get_secret_value(SecretId=resource["PhysicalResourceId"])
    except (ClientError, BotoCoreError):
        return None
    value = json.loads(secret.get("SecretString") or "{}").get("STRIPE_API_KEY")
    return str(value) if value else None
