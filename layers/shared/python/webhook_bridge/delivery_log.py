"""Where one event went, for ``bridgectl trace``: a small record per event in the idempotency table.

Written by the code that writes the idempotency records: the receiver's deduplication
(duplicates), the delivery's queue moves (retrying, waiting, dead-lettered) and its processor
(skipped as stale or erased). One item per event for the receiver and one per event and vendor
for the deliveries (one attribute per action), with the table's TTL.

What the idempotency records already say is not written again: the receiver's completed record
keeps the event's receipt (its type, time and every (vendor, action) queued) and a delivery's
completed record its time, so the trace reads those records (one write less per webhook and per
delivered message). Only the messages the receiver did not list (a sync, an erase repeated) are
logged as delivered.

Best effort: a failed write is logged and never fails the webhook or the delivery. Nothing
personal is stored: ids, states, times, error classes and the masked reason the DLQ keeps anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from webhook_bridge.actions import VendorMessage
from webhook_bridge.idempotency import RECORD_COMPLETED, RECORD_KEY_ATTRIBUTE, record_id
from webhook_bridge.observability import logger
from webhook_bridge.privacy import mask_text
from webhook_bridge.state.dynamodb import _DynamoStore

TTL_SECONDS = 7 * 24 * 3600  # as long as provider retries are deduplicated
TTL_ATTRIBUTE = "expiration"  # the idempotency table's TTL attribute
BATCH_GET_LIMIT = 100  # keys per BatchGetItem (DynamoDB's limit)
DELIVERED_AT = "delivered_at"  # in a delivery's completed idempotency record (delivery/once.py)
RECEIPT = "receipt"  # in a receiver's completed idempotency record (receiver/logic.py)


def delivery_prefix(vendor: str) -> str:
    """The key prefix of a vendor's delivery records, idempotency and trace alike: the
    delivery function's ``dynamodb:LeadingKeys`` (template.yaml)."""
    return f"delivery#{vendor}"


def receiver_prefix(provider: str) -> str:
    """The key prefix of a receiver's records, idempotency and trace alike: its ``dynamodb:LeadingKeys``."""
    return f"receiver#{provider}"


def receiver_dedupe_key(provider: str, event_id: str) -> str:
    """Once per provider event id; the provider in the key too, so Stripe and Typeform ids never collide."""
    return f"{provider}:{event_id}"


def receipt(event_type: str, messages: Iterable[VendorMessage]) -> dict[str, Any]:
    """What the receiver's completed idempotency record keeps for the trace (under ``RECEIPT``):
    when, which type, and which (vendor, action) went on its way."""
    deliveries = [[m.vendor.value, m.action.id] for m in messages]
    return {"received_at": time.time(), "event_type": event_type, "deliveries": deliveries}


def receiver_key(provider: str, event_id: str) -> str:
    # Under each writer's own key prefix, like its idempotency records: a function writes only its own items.
    return f"{receiver_prefix(provider)}#trace#{event_id}"


def delivery_key(vendor: str, provider: str, event_id: str) -> str:
    return f"{delivery_prefix(vendor)}#trace#{provider}:{event_id}"


class DeliveryLog(_DynamoStore):
    """On the idempotency table (key ``id``, TTL ``expiration``), with the state stores' client handling."""

    def __init__(self, table_name: str, client: Any | None = None, ttl_seconds: int = TTL_SECONDS) -> None:
        super().__init__(table_name, client, ttl_seconds)

    # -- the receiver ------------------------------------------------------------------

    def duplicate(self, provider: str, event_id: str) -> None:
        self._update(receiver_key(provider, event_id), {"last_duplicate_at": time.time()}, add={"duplicates": 1})

    # -- the delivery ------------------------------------------------------------------

    def delivered(self, message: VendorMessage) -> None:
        self._delivery(message, {"state": "delivered", "at": time.time()})

    def retrying(self, message: VendorMessage, attempts: int, next_try: float | None, error: str | None) -> None:
        entry: dict[str, Any] = {"state": "retrying", "at": time.time(), "attempts": attempts}
        if next_try is not None:
            entry["next_try"] = next_try
        if error:
            entry["error_class"] = error.split(" (", 1)[0]  # "RateLimitError (HTTP 429)" -> the class only
        self._delivery(message, entry)

    def waiting_for_identity(self, message: VendorMessage, next_try: float | None) -> None:
        entry: dict[str, Any] = {"state": "waiting_for_identity", "at": time.time()}
        if next_try is not None:
            entry["next_try"] = next_try
        self._delivery(message, entry)

    def skipped(self, message: VendorMessage, reason: str) -> None:
        """Nothing sent, by design: a newer state already went out, or the person was erased."""
        self._delivery(message, {"state": "skipped", "at": time.time(), "reason": reason})

    def dead_lettered(self, message: VendorMessage, error_class: str, reason: str, attempts: int) -> None:
        entry = {"state": "dead_lettered", "at": time.time(), "error_class": error_class, "attempts": attempts}
        self._delivery(message, {**entry, "reason": mask_text(reason)[:300]})

    def _delivery(self, message: VendorMessage, entry: dict[str, Any]) -> None:
        action = message.action
        key = delivery_key(message.vendor.value, action.source, action.source_event_id)
        self._update(key, {action.id: entry})

    # -- bridgectl trace ---------------------------------------------------------------

    def read(self, provider: str, event_id: str, vendors: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The receiver's item (``"receiver"``: its receipt and duplicates) and each vendor's, by
        vendor; absent ones left out."""
        keys = {"receiver": receiver_key(provider, event_id)}
        keys.update({vendor: delivery_key(vendor, provider, event_id) for vendor in vendors})
        keys[RECEIPT] = record_id(receiver_prefix(provider), receiver_dedupe_key(provider, event_id))
        found = self._get_many(keys)
        stored = _completed(found.pop(RECEIPT, {})).get(RECEIPT)
        if stored:  # else a receipt logged before it moved into the record, in the log item
            found["receiver"] = {**found.get("receiver", {}), **stored}
        return found

    def delivered_at(self, deliveries: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """When each (vendor, action id) was delivered, from its completed idempotency record."""
        keys = {
            pair: record_id(delivery_prefix(pair[0]), VendorMessage.dedupe_key_of(*pair)) for pair in set(deliveries)
        }
        delivered = {}
        for pair, item in self._get_many(keys).items():
            # Records completed before deliveries went unlogged have no time: their log entry says it.
            at = _completed(item).get(DELIVERED_AT)
            if at is not None:
                delivered[pair] = float(at)
        return delivered

    def _get_many(self, keys: dict[Any, str]) -> dict[Any, dict[str, Any]]:
        """The items at ``keys`` (by their owner), in as many ``BatchGetItem`` calls as needed."""
        from boto3.dynamodb.types import TypeDeserializer

        owners = {key: owner for owner, key in keys.items()}
        wanted = [{RECORD_KEY_ATTRIBUTE: {"S": key}} for key in owners]
        found: dict[Any, dict[str, Any]] = {}
        deserializer = TypeDeserializer()
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request = {self.table_name: {"Keys": wanted[start : start + BATCH_GET_LIMIT], "ConsistentRead": True}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    plain = {name: _plain(deserializer.deserialize(value)) for name, value in item.items()}
                    found[owners[plain[RECORD_KEY_ATTRIBUTE]]] = plain
                request = response.get("UnprocessedKeys") or {}
        return found

    # -- one UpdateItem per write --------------------------------------------------------

    def _update(self, key: str, values: dict[str, Any], *, add: dict[str, int] | None = None) -> None:
        from boto3.dynamodb.types import TypeSerializer

        serializer = TypeSerializer()
        names: dict[str, str] = {"#ttl": TTL_ATTRIBUTE}
        bound: dict[str, Any] = {":ttl": self._expires_at()}
        sets, adds = ["#ttl = :ttl"], []
        for index, (name, value) in enumerate(values.items()):
            names[f"#a{index}"] = name
            bound[f":v{index}"] = serializer.serialize(_dynamo(value))
            sets.append(f"#a{index} = :v{index}")
        for index, (name, amount) in enumerate((add or {}).items()):
            names[f"#n{index}"] = name
            bound[f":n{index}"] = {"N": str(amount)}
            adds.append(f"#n{index} :n{index}")
        expression = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"id": {"S": key}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=bound,
            )
        except Exception:  # best effort: the trace never costs a delivery
            logger.warning("delivery log not written", extra={"trace_key": key}, exc_info=True)


def _completed(record: dict[str, Any]) -> dict[str, Any]:
    """The result an idempotency record completed with; empty while in progress, or absent."""
    if record.get("status") != RECORD_COMPLETED:
        return {}
    result: dict[str, Any] = json.loads(record.get("data") or "{}")
    return result


def _dynamo(value: Any) -> Any:
    """Floats as Decimals, as DynamoDB wants numbers."""
    if isinstance(value, float):
        return Decimal(f"{value:.3f}")
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
