"""An Action as ConvertLoop calls.

- identify only: ``POST /people`` {identifiers, first/last name, traits and known
  attribution (``Person.attributes``) as custom attributes, ``add_to_segments`` /
  ``remove_from_segments``: the segments to join and leave (``Person.memberships``), one
  of each per request, so several take several (``PersonRequest.to_wires``)};
- event only: ``POST /event_logs`` {name, occured_at, person = identifiers, metadata};
- identify and event (checkout_completed, invoice_paid, subscription_*): ``POST /people``
  as above, then ``POST /event_logs`` whose person hash carries the identifiers only.

Identifiers: ``email`` when known and ``user_id`` = the Stripe customer id when known
(both when both are, so ConvertLoop links the app user to the contact). Other vendors'
lists (SegMetrics tags) are not ConvertLoop segments and are not sent: the spec says
whose lists ConvertLoop reads (``lists_read``).
"""

from __future__ import annotations

from typing import Any

from webhook_bridge.actions import Action, Person
from webhook_bridge.vendors.convertloop.client import VENDOR, ConvertLoopClient, EventLogRequest, PersonRequest
from webhook_bridge.vendors.convertloop.spec import SPEC
from webhook_bridge.vendors.exceptions import VendorError
from webhook_bridge.vendors.identifiers import require_identified
from webhook_bridge.vendors.results import DeliveryResult
from webhook_bridge.vendors.wire_formats import scalar_traits

# Keys of the person hash that mean something to ConvertLoop: a trait may not set them.
_RESERVED = frozenset(PersonRequest.model_fields)


def identifiers(person: Person) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if person.email:
        fields["email"] = person.email
    if person.stripe_customer_id:
        fields["user_id"] = person.stripe_customer_id
    return fields


def person_request(person: Person) -> PersonRequest:
    """The identify: names, traits and segments, plus the identifiers."""
    fields: dict[str, Any] = scalar_traits(person.attributes, reserved=_RESERVED)
    if person.first_name:
        fields["first_name"] = person.first_name
    if person.last_name:
        fields["last_name"] = person.last_name
    segments = person.memberships_at(SPEC.lists_read)
    if segments.join:
        fields["add_to_segments"] = segments.join
    if segments.leave:
        fields["remove_from_segments"] = segments.leave
    fields.update(identifiers(person))
    return PersonRequest.parse(fields)


def deliver(action: Action, client: ConvertLoopClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    result = DeliveryResult(vendor=VENDOR)
    person = require_identified(VENDOR, action)
    # Identify first, so the event lands on an up-to-date contact. A failure stops the
    # delivery (the exception propagates) and the whole message is retried: repeating
    # ``POST /people`` is harmless (an upsert of the same attributes and segments). The
    # event log has no documented idempotency key, so it is made last, after everything
    # that can fail first; it is repeated only when that call itself failed in a way that
    # hides whether ConvertLoop stored it (timeout, connection lost after sending, 5xx):
    # such a failure is marked, and the delivery layer counts ``PossibleDuplicate``.
    if action.identify:
        for _ in client.upsert_person(person_request(person)):  # one per segment beyond the first
            result.record("POST /people")
    if action.event is not None:
        request = EventLogRequest(
            name=action.event.name,
            occurred_at=action.occurred_at,
            person=PersonRequest.parse(identifiers(person)),
            metadata=action.event.properties or None,
        )
        try:
            client.create_event_log(request)
        except VendorError as error:
            error.possibly_applied = error.retryable
            raise
        result.record("POST /event_logs")
    if not result.calls:
        result.skipped = "nothing to identify or track"
    return result
