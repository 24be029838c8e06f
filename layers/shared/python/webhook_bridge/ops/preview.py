"""``bridgectl preview FILE``: the actions an event maps to and the HTTP requests each vendor
would receive, with ``BRIDGE_MAPPING`` applied, personal data masked, no AWS and no network.

The requests are the real ones: the delivery adapters and vendor clients build and send them,
into an ``httpx.MockTransport`` that records them and answers as the vendor does on success.
The mapping runs with empty memory (no earlier customer or invoice events), as on a fresh stack.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from webhook_bridge.actions import Action, VendorMessage
from webhook_bridge.exceptions import BridgeError
from webhook_bridge.mapping_config import MappingConfig, MappingContext
from webhook_bridge.privacy import mask_data, mask_text, names_personal_data
from webhook_bridge.receiver.eventbridge import is_eventbridge_envelope, stripe_event
from webhook_bridge.receiver.exceptions import MalformedBodyError
from webhook_bridge.receiver.logic import vendor_messages
from webhook_bridge.receiver.mapping import ProviderMapping
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as all_vendors
from webhook_bridge.vendors.exceptions import VendorError

SHOWN_HEADERS = ("content-type", "idempotency-key", "authorization")
SUCCESS = {"success": True, "status": "success"}  # enough for every adapter's success path
# The delivery fills in an email the event lacks from what earlier events told it about the
# Stripe customer (delivery.identity); a preview has no such memory, so it shows this instead.
REMEMBERED_EMAIL = "remembered@email-known-at-delivery.invalid"


class PreviewError(BridgeError):
    """The file is not an event the bridge receives."""


@dataclass(frozen=True)
class VendorRequest:
    vendor: str
    action_id: str
    method: str
    url: str
    headers: dict[str, str]
    body: Any

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("vendor", "action_id", "method", "url", "headers", "body")}


@dataclass
class Preview:
    provider: str
    event_id: str | None
    event_type: str | None
    actions: list[Action] = field(default_factory=list)
    requests: list[VendorRequest] = field(default_factory=list)
    refusals: list[dict[str, str]] = field(default_factory=list)  # what the clients refuse before sending
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "actions": [
                masked(a.model_dump(mode="json", exclude_defaults=True), None, frozenset(a.person.traits))
                for a in self.actions
            ],
            "requests": [r.as_dict() for r in self.requests],
            "refusals": self.refusals,
            "notes": self.notes,
        }


def read_event(document: Any) -> tuple[str, dict[str, Any]]:
    """(provider, payload) from an API Gateway event, an EventBridge envelope, or a bare event."""
    if isinstance(document, dict) and "routeKey" in document and "body" in document:
        raw = document["body"] or ""
        body = base64.b64decode(raw) if document.get("isBase64Encoded") else raw.encode()
        provider = "typeform" if "typeform" in str(document.get("rawPath") or document["routeKey"]) else "stripe"
        return provider, _json_object(body)
    if is_eventbridge_envelope(document):
        try:
            return "stripe", stripe_event(document)
        except MalformedBodyError as exc:
            raise PreviewError(str(exc)) from exc
    if isinstance(document, dict) and document.get("object") == "event" and "type" in document:
        return "stripe", document
    if isinstance(document, dict) and "event_type" in document and "form_response" in document:
        return "typeform", document
    raise PreviewError("not a Stripe or Typeform event, an EventBridge envelope or an API Gateway event")


def preview(document: Any, mapping_json: str | None = None, vendors: tuple[Vendor, ...] | None = None) -> Preview:
    """``vendors``: every known vendor when None."""
    from webhook_bridge.receiver.providers import PROVIDERS

    provider, payload = read_event(document)
    spec = PROVIDERS[provider]
    mapping = ProviderMapping(spec.mapper(), MappingContext.in_memory(MappingConfig.from_json(mapping_json)))
    result = Preview(provider, payload.get(spec.id_field), payload.get(spec.type_field))
    try:
        result.actions, messages = vendor_messages(mapping, vendors or all_vendors(), payload)
    except MalformedBodyError as exc:
        raise PreviewError(str(exc)) from exc
    for message in messages:
        person = message.action.person
        if not person.email and person.stripe_customer_id:
            note = f"{person.stripe_customer_id}: no email in the event; the delivery uses the one it remembers"
            if note not in result.notes:
                result.notes.append(note)
            action = message.action.model_copy(update={"person": person.model_copy(update={"email": REMEMBERED_EMAIL})})
            message = message.model_copy(update={"action": action})
        try:
            result.requests.extend(_requests_for(message))
        except VendorError as exc:
            # Vendor texts can repeat the request: the class and our own masked message only.
            refusal = {"vendor": message.vendor.value, "action_id": message.action.id, "error": exc.reason}
            result.refusals.append({**refusal, "message": mask_text(exc.message)})
    return result


def _requests_for(message: VendorMessage) -> list[VendorRequest]:
    sent: list[httpx.Request] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=SUCCESS)

    with httpx.Client(transport=httpx.MockTransport(vendor)) as http:
        client = registry.offline_client(message.vendor, http)
        registry.adapter(message.vendor).deliver(message.action, client, idempotency_key=message.idempotency_token)
    return [_masked(message, request) for request in sent]


def _masked(message: VendorMessage, request: httpx.Request) -> VendorRequest:
    headers = {name: value for name, value in request.headers.items() if name in SHOWN_HEADERS}
    if "authorization" in headers:  # placeholder credentials anyway: show the scheme only
        scheme, _, _ = headers["authorization"].partition(" ")
        headers["authorization"] = f"{scheme} ***" if scheme != headers["authorization"] else "***"
    body: Any = None
    event_name = message.action.event.name if message.action.event is not None else None
    if request.content:
        try:
            body = masked(json.loads(request.content), event_name, frozenset(message.action.person.traits))
        except ValueError:
            body = mask_text(request.content.decode("utf-8", "replace"))
    return VendorRequest(
        vendor=message.vendor.value,
        action_id=message.action.id,
        method=request.method,
        url=mask_text(str(request.url).replace("%40", "@")),
        headers=headers,
        body=body,
    )


def masked(value: Any, event_name: str | None = None, answer_keys: frozenset[str] = frozenset()) -> Any:
    """Emails anywhere, and every value under a key that names a person's data, or under one of
    ``answer_keys`` (the person's traits: form answers are keyed by the form's field refs, which
    say nothing of what they hold). The request's other containers (event properties) stay readable.

    ``event_name`` is kept where a vendor puts it under a key called ``name`` (ConvertLoop, Customer.io).
    """

    def personal(key: str, item: Any) -> bool:
        if key == "name" and event_name is not None and item == event_name:
            return False
        return names_personal_data(key) or key in answer_keys

    return mask_data(value, personal)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise PreviewError("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise PreviewError("the body is not a JSON object")
    return payload


def render(result: Preview) -> str:
    """The human-readable preview."""
    lines = [
        f"{result.provider} {result.event_type} {result.event_id}: "
        f"{len(result.actions)} action(s), {len(result.requests)} request(s)"
    ]
    for action in result.actions:
        what = action.event.name if action.event is not None else ("identify" if action.identify else action.kind)
        lines.append("")
        lines.append(f"action {action.id}  {action.kind}  {what}")
        for request in (r for r in result.requests if r.action_id == action.id):
            lines.append(f"  {request.vendor}: {request.method} {request.url}")
            lines.extend(f"    {name}: {value}" for name, value in request.headers.items())
            if request.body is not None:
                body = json.dumps(request.body, indent=2, ensure_ascii=False, sort_keys=True)
                lines.extend(f"    {line}" for line in body.splitlines())
        for refusal in (r for r in result.refusals if r["action_id"] == action.id):
            lines.append(f"  {refusal['vendor']}: refused before sending ({refusal['error']}): {refusal['message']}")
    if not result.actions:
        lines.append("nothing is sent for this event (ignored type, no one identified, or disabled by the mapping)")
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)
