"""Pausing and resuming a queue's consumer: its Lambda event source mapping, disabled or enabled.

While paused, messages wait in the queue (their retention is 14 days); nothing is lost.
On AWS a change takes effect within seconds (states ``Disabling``/``Enabling``); the local
stack's pollers read the same state from the emulated Lambda API.
"""

from __future__ import annotations

from typing import Any

from webhook_bridge.ops.queues import VendorQueues


def event_source_mappings(lambda_client: Any, sqs: Any, queues: VendorQueues) -> list[dict[str, Any]]:
    arn = sqs.get_queue_attributes(QueueUrl=queues.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mappings: list[dict[str, Any]] = []
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate(EventSourceArn=arn):
        mappings.extend(page.get("EventSourceMappings", []))
    return mappings


def set_enabled(lambda_client: Any, mappings: list[dict[str, Any]], enabled: bool) -> list[dict[str, Any]]:
    """Each mapping after the change (``State`` says where it is going)."""
    return [lambda_client.update_event_source_mapping(UUID=m["UUID"], Enabled=enabled) for m in mappings]
