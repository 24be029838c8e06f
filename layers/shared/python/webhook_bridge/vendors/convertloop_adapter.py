"""An Action as ConvertLoop calls.

- with an event: ``POST /event_logs`` {name, occurred_at, person, metadata}; the person
  hash carries the identifiers, plus names, traits and segments when the action
  identifies (ConvertLoop applies them to the contact with the event: one call, not two);
- identify only: ``POST /people``.

Identifiers: ``email`` when known and ``user_id`` = the Stripe customer id when known
(both when both are, so ConvertLoop links the app user to the contact).
"""

from __future__ import annotations

from typing import Any

from webhook_bridge.actions import Action, Person
from webhook_bridge.vendors.adapter_support import DeliveryResult, require_identified, scalar_traits
from webhook_bridge.vendors.convertloop import VENDOR, ConvertLoopClient, EventLogRequest, PersonRequest

# Keys of the person hash that mean something to ConvertLoop: a trait may not set them.
_RESERVED = frozenset(PersonRequest.model_fields)


def person_request(person: Person, *, with_profile: bool) -> PersonRequest:
    fields: dict[str, Any] = {}
    if with_profile:
        fields.update(scalar_traits(person.traits, reserved=_RESERVED))
        if person.first_name:
            fields["first_name"] = person.first_name
        if person.last_name:
            fields["last_name"] = person.last_name
        if person.segments_add:
            fields["add_to_segments"] = person.segments_add
        if person.segments_remove:
            fields["remove_from_segments"] = person.segments_remove
    if person.email:
        fields["email"] = person.email
    if person.stripe_customer_id:
        fields["user_id"] = person.stripe_customer_id
    return PersonRequest.parse(fields)


def deliver(action: Action, client: ConvertLoopClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    result = DeliveryResult(vendor=VENDOR)
    person = require_identified(VENDOR, action)
    if action.event is not None:
        request = EventLogRequest(
            name=action.event.name,
            occurred_at=action.occurred_at,
            person=person_request(person, with_profile=action.identify),
            metadata=action.event.properties or None,
        )
        client.create_event_log(request)
        result.record("POST /event_logs")
    elif action.identify:
        client.upsert_person(person_request(person, with_profile=True))
        result.record("POST /people")
    else:
        result.skipped = "nothing to identify or track"
    return result
