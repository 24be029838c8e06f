"""One webhook, start to finish: verify → parse → deduplicate → map → enqueue."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from webhook_bridge.actions import Action, VendorMessage
from webhook_bridge.delivery_log import RECEIPT, receipt
from webhook_bridge.observability import NAMESPACE, SERVICE, logger, metrics
from webhook_bridge.receiver.exceptions import MalformedBodyError, PayloadTooLargeError, ReceiverError
from webhook_bridge.receiver.providers import ProviderSpec
from webhook_bridge.routing import route
from webhook_bridge.secrets import MissingSecretError, get_secret_value
from webhook_bridge.vendors.catalog import Vendor

# Stripe's and Typeform's payloads are a dozen levels deep at most.
MAX_JSON_DEPTH = 64
# A UTF-16 surrogate can only reach a parsed string through a \uD800-\uDFFF escape: raw UTF-8
# cannot encode one (json.loads refuses the bytes).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def well_formed(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    JSON allows an escaped half of a surrogate pair (a form answer cut in the middle of an
    emoji); Python keeps it in the string, and UTF-8 (SQS, DynamoDB, every vendor) cannot
    carry it: left in, the event could never be queued and the provider would retry it for days.
    """
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {well_formed(key): well_formed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [well_formed(item) for item in value]
    return value


def json_depth(value: Any) -> int:
    """How deeply containers nest in parsed JSON, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class EventMapping(Protocol):
    """The provider mapping as the receiver needs it (see ``webhook_bridge.providers``)."""

    def map(self, payload: dict[str, Any]) -> list[Action]: ...

    def vendors_for(self, action: Action) -> Iterable[Vendor] | None: ...


class Deduplicator(Protocol):
    def __call__(self, event_id: str, process: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...

    def register_lambda_context(self, context: Any) -> None: ...


def vendor_messages(
    mapping: EventMapping, enabled_vendors: Iterable[Vendor], payload: dict[str, Any]
) -> tuple[list[Action], list[VendorMessage]]:
    """The actions of a verified event, and one message per vendor each goes to (``bridgectl preview`` too)."""
    # An action about nobody (no email, no customer id) would be refused by every vendor.
    actions = [action for action in mapping.map(payload) if action.person.is_identified]
    messages = [
        VendorMessage(vendor=vendor, action=action)
        for action in actions
        for vendor in route(action, enabled_vendors, mapping.vendors_for(action))
    ]
    return actions, messages


@dataclass
class Receiver:
    spec: ProviderSpec
    mapping: EventMapping
    enabled_vendors: tuple[Vendor, ...]
    publish: Callable[[list[VendorMessage]], int]
    dedupe: Deduplicator
    max_body_bytes: int
    signature_tolerance: int = 300

    def handle(self, body: bytes, signature: str | None) -> dict[str, Any]:
        """A webhook: the signature checked on the raw body, then ``accept``."""
        return self._counted(lambda: self._accept_signed(body, signature))

    def handle_unsigned(self, body: bytes, unwrap: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """A body from a channel trusted through IAM (EventBridge, through its queue): parsed and
        repaired as a webhook's is, then ``unwrap`` takes the provider's event out of it."""
        return self._counted(lambda: self.accept(unwrap(self._parse(body))))

    def _counted(self, receive: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Every answer is counted: refusals by their error code, so each invocation has a metric."""
        try:
            return receive()
        except ReceiverError as error:
            self._count("WebhookRefused", error.code)
            raise

    def _accept_signed(self, body: bytes, signature: str | None) -> dict[str, Any]:
        if len(body) > self.max_body_bytes:
            raise PayloadTooLargeError(f"body exceeds {self.max_body_bytes} bytes")
        self._verify(body, signature)
        return self.accept(self._parse(body))

    def accept(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A verified event, from the webhook or a channel that needs no signature (EventBridge):
        deduplicate on its id, map, enqueue one message per vendor and action."""
        event_id = self.spec.event_id(payload)
        event_type = self.spec.event_type(payload)
        if event_id is None or event_type is None:
            raise MalformedBodyError(f"{self.spec.name} event without {self.spec.id_field} or {self.spec.type_field}")
        logger.set_correlation_id(event_id)
        logger.append_keys(provider=self.spec.name, event_type=event_type)
        result = self.dedupe(event_id, lambda: self._map_and_publish(payload, event_type))
        self._count("WebhookIgnored" if result["status"] == "ignored" else "WebhookReceived", event_type)
        return {"event_id": event_id, **{name: value for name, value in result.items() if name != RECEIPT}}

    def _verify(self, body: bytes, signature: str | None) -> None:
        try:
            configured = get_secret_value(self.spec.secret_name) or ""
        except MissingSecretError:
            self._count("WebhookRefused", "missing_secret")
            raise
        secrets = [part.strip() for part in configured.split(",") if part.strip()]
        try:
            self.spec.verify(body, signature, secrets, tolerance=self.signature_tolerance)
        except Exception:
            self._count("WebhookRefused", "signature")
            raise

    def _parse(self, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedBodyError("body is not valid JSON") from exc
        except RecursionError as exc:
            raise MalformedBodyError(f"body is nested deeper than {MAX_JSON_DEPTH} levels") from exc
        if not isinstance(payload, dict):
            raise MalformedBodyError("body is not a JSON object")
        if json_depth(payload) > MAX_JSON_DEPTH:
            # Mapping, validation and masking walk the payload recursively: refuse before they do.
            raise MalformedBodyError(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
        # Depth is bounded by now, so the repair's recursion is too; valid pairs come back whole.
        return well_formed(payload) if _SURROGATE_ESCAPE.search(body) else payload

    def _map_and_publish(self, payload: dict[str, Any], event_type: str) -> dict[str, Any]:
        """The result the idempotency record completes with: the answer, and the receipt
        `bridgectl trace` reads (what is on its way, once SQS has it)."""
        actions, messages = vendor_messages(self.mapping, self.enabled_vendors, payload)
        if messages:
            sent = self.publish(messages)
            logger.info("event accepted", extra={"actions": len(actions), "messages": sent})
        else:
            logger.info("event ignored", extra={"actions": len(actions)})
        status = "accepted" if messages else "ignored"
        answer = {"status": status, "actions": len(actions), "messages": len(messages)}
        return {**answer, RECEIPT: receipt(event_type, messages)}

    def _count(self, name: str, detail: str) -> None:
        """Per provider (the dashboard's view; the handler sets that dimension once per invocation)
        and per provider and event type or refusal reason."""
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        dimension = "reason" if name == "WebhookRefused" else "event_type"
        with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name="provider", value=self.spec.name)
            metric.add_dimension(name=dimension, value=detail)
