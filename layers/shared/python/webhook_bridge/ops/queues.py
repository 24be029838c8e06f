"""Finding the stack's queues by name, the same way on AWS and against `make dev`.

CloudFormation names queues ``<stack>-<LogicalId>`` (the template sets ``QueueName``) and
so does the local stack, so a name prefix and the logical id find both (a trailing
``-<suffix>`` is accepted too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook_bridge.vendors.catalog import specs

# The optional Stripe EventBridge consumer's queue: not a vendor's, but operated the same way.
STRIPE_EVENTS = "stripe-events"


def queue_names() -> dict[str, str]:
    """The names operators use (every vendor's, and stripe-events) → the template's logical id prefix."""
    return {**{spec.name: spec.logical_id for spec in specs()}, STRIPE_EVENTS: "StripeEvents"}


@dataclass(frozen=True)
class VendorQueues:
    """A queue, its dead-letter queue, and the name operators use for them (a vendor, or stripe-events)."""

    name: str
    queue_url: str
    dlq_url: str


def discover(sqs: Any, stack: str) -> dict[str, VendorQueues]:
    urls: list[str] = []
    paginator = sqs.get_paginator("list_queues")
    for page in paginator.paginate(QueueNamePrefix=stack):
        urls.extend(page.get("QueueUrls", []))
    found: dict[str, VendorQueues] = {}
    for name, logical in queue_names().items():
        queue = _match(urls, stack, f"{logical}Queue")
        dlq = _match(urls, stack, f"{logical}DeadLetterQueue")
        if queue and dlq:
            found[name] = VendorQueues(name, queue, dlq)
    return found


def _match(urls: list[str], stack: str, logical_id: str) -> str | None:
    for url in urls:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        rest = name[len(stack) + 1 :] if name.startswith(f"{stack}-") else ""
        if rest == logical_id or rest.startswith(f"{logical_id}-"):
            return url
    return None
