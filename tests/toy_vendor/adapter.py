"""An Action as Parrot calls: the person (with the tags it joins and leaves) first, then the event."""

from __future__ import annotations

from webhook_bridge.actions import Action
from webhook_bridge.vendors.identifiers import require_email
from webhook_bridge.vendors.results import DeliveryResult

from .client import EventRequest, ParrotClient, PersonRequest
from .spec import SPEC


def deliver(action: Action, client: ParrotClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    person = require_email(SPEC.name, action)
    assert person.email is not None
    result = DeliveryResult(vendor=SPEC.name)
    if action.identify:
        tags = person.memberships_at(SPEC.lists_read)
        client.upsert_person(
            PersonRequest(
                email=person.email,
                first_name=person.first_name,
                add_tags=tags.join or None,
                remove_tags=tags.leave or None,
            )
        )
        result.record("PUT /people/{email}")
    if action.event is not None:
        client.track(EventRequest(email=person.email, name=action.event.name))
        result.record("POST /people/{email}/events")
    return result
