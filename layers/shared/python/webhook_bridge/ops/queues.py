"""Finding the stack's queues by name, the same way on AWS and against `make dev`.

CloudFormation names queues ``<stack>-<LogicalId>-<suffix>`` and the local stack
names them ``<stack>-<LogicalId>``, so a name prefix and the logical id find both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook_bridge.vendors_enum import Vendor

LOGICAL_IDS = {
    Vendor.CONVERTLOOP: "ConvertLoop",
    Vendor.LOOPS: "Loops",
    Vendor.CUSTOMERIO: "CustomerIo",
    Vendor.SEGMETRICS: "SegMetrics",
}


@dataclass(frozen=True)
class VendorQueues:
    vendor: Vendor
    queue_url: str
    dlq_url: str


def discover(sqs: Any, stack: str) -> dict[Vendor, VendorQueues]:
    urls: list[str] = []
    paginator = sqs.get_paginator("list_queues")
    for page in paginator.paginate(QueueNamePrefix=stack):
        urls.extend(page.get("QueueUrls", []))
    found: dict[Vendor, VendorQueues] = {}
    for vendor, logical in LOGICAL_IDS.items():
        queue = _match(urls, stack, f"{logical}Queue")
        dlq = _match(urls, stack, f"{logical}DeadLetterQueue")
        if queue and dlq:
            found[vendor] = VendorQueues(vendor, queue, dlq)
    return found


def _match(urls: list[str], stack: str, logical_id: str) -> str | None:
    for url in urls:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        rest = name[len(stack) + 1 :] if name.startswith(f"{stack}-") else ""
        if rest == logical_id or rest.startswith(f"{logical_id}-"):
            return url
    return None
