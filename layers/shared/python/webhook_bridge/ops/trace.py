"""``bridgectl trace EVENT_ID``: where one event went, from the delivery log (``webhook_bridge.delivery_log``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webhook_bridge.delivery.ordering import SkipReason
from webhook_bridge.delivery_log import TTL_ATTRIBUTE, DeliveryLog
from webhook_bridge.vendors.catalog import vendors

SKIP_EXPLAINED = {
    SkipReason.NEWER_STATE_SENT.value: "stale, the vendor already holds a newer state",
    SkipReason.ERASED.value: "the person was erased",
}


def idempotency_table(dynamodb: Any, stack: str) -> str | None:
    """CloudFormation names it ``<stack>-IdempotencyTable-<suffix>``, the local stack ``<stack>-IdempotencyTable``."""
    prefix = f"{stack}-IdempotencyTable"
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page.get("TableNames", []):
            if name == prefix or name.startswith(f"{prefix}-"):
                return str(name)
    return None


def guess_provider(event_id: str) -> str:
    return "stripe" if event_id.startswith("evt_") else "typeform"


def trace(log: DeliveryLog, provider: str, event_id: str) -> dict[str, Any] | None:
    """The event's receipt and, per vendor and action, its latest known state; None if unknown."""
    items = log.read(provider, event_id, [v.value for v in vendors()])
    if not items:
        return None
    received = items.get("receiver", {})
    deliveries = []
    expected = [tuple(pair) for pair in received.get("deliveries", [])]
    seen = {
        (vendor, action)
        for vendor, item in items.items()
        if vendor != "receiver"
        for action in item
        if action not in ("id", TTL_ATTRIBUTE)
    }
    delivered = log.delivered_at(expected)
    for vendor, action in expected + sorted(seen - set(expected)):
        entry = items.get(vendor, {}).get(action)
        if (vendor, action) in delivered:  # whatever an earlier attempt logged, it went out
            entry = {"state": "delivered", "at": delivered[(vendor, action)]}
        deliveries.append({"vendor": vendor, "action_id": action, **(entry or {"state": "queued"})})
    return {
        "provider": provider,
        "event_id": event_id,
        "event_type": received.get("event_type"),
        "received_at": received.get("received_at"),
        "duplicates": received.get("duplicates", 0),
        "last_duplicate_at": received.get("last_duplicate_at"),
        "deliveries": deliveries,
    }


def render(result: dict[str, Any]) -> str:
    received = result["received_at"]
    head = f"{result['provider']} {result['event_id']} {result['event_type'] or ''}".rstrip()
    lines = [f"{head}: received {_when(received)}" if received else f"{head}: receipt not recorded"]
    if result["duplicates"]:
        lines.append(
            f"  deduplicated: {result['duplicates']} more receipt(s), the last {_when(result['last_duplicate_at'])}"
        )
    if not result["deliveries"]:
        lines.append("  nothing sent (ignored type, no one identified, or disabled by the mapping)")
    for delivery in result["deliveries"]:
        lines.append(f"  {delivery['vendor']:<12} {delivery['action_id']}  {_state(delivery)}")
    return "\n".join(lines)


def _state(delivery: dict[str, Any]) -> str:
    state = delivery["state"]
    if state == "delivered":
        return f"delivered {_when(delivery['at'])}"
    if state == "retrying":
        return (
            f"retrying: {delivery.get('attempts', 0)} failed attempt(s), next try {_when(delivery.get('next_try'))}, "
            f"last error {delivery.get('error_class', '?')}"
        )
    if state == "waiting_for_identity":
        return f"waiting for the customer's email, next try {_when(delivery.get('next_try'))}"
    if state == "dead_lettered":
        return (
            f"dead-lettered {_when(delivery['at'])} after {delivery.get('attempts', 0)} attempt(s): "
            f"{delivery.get('error_class')}: {delivery.get('reason', '')}"
        )
    if state == "skipped":
        why = SKIP_EXPLAINED.get(delivery.get("reason", ""), delivery.get("reason", "?"))
        return f"skipped {_when(delivery['at'])}: {why}"
    return "queued, not delivered yet"


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if epoch else "?"
