"""An Action as Customer.io calls.

- erase: ``DELETE /customers/{id}`` (a 404 means already gone);
- identify: ``PUT /customers/{id}`` with email, first/last name, stripe_customer_id,
  traits and known attribution (``Person.attributes``), one boolean ``segment_<name>``
  per ConvertLoop segment joined (true) or left (false), and ``created_at`` only when a
  ``created_at`` trait reads as a time (a trait of that name that does not is left out);
- event: ``POST /customers/{id}/events`` {name, data, timestamp = occurred_at,
  id = a ULID derived from the action, so a retry is deduplicated by Customer.io}.
Calls per action: identify only: ``PUT /customers/{id}``; event only:
``POST /customers/{id}/events``; identify and event (checkout_completed, invoice_paid,
subscription_*): ``PUT /customers/{id}`` then ``POST /customers/{id}/events``, so the
event lands on a known, up-to-date person.

The customer id is the email, always: a profile under the Stripe customer id would be a
second person, split from the one every other event names. Segments are the ConvertLoop
lists of ``Person.memberships`` (the spec's ``shows_lists_of``); SegMetrics tags are not sent.

Segments are boolean attributes rather than one ``segments`` list because Customer.io
replaces an attribute's value on every identify: a list would forget the segments set
by earlier actions, and removing one would need the current list, which the write-only
Track API cannot read. A boolean per segment adds and removes independently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from webhook_bridge.actions import Action, ActionKind, Person
from webhook_bridge.vendors.customerio.client import VENDOR, CustomerIoClient, event_ulid
from webhook_bridge.vendors.customerio.spec import SPEC
from webhook_bridge.vendors.identifiers import require_email
from webhook_bridge.vendors.results import DeliveryResult, erase
from webhook_bridge.vendors.wire_formats import unix_seconds

SEGMENT_ATTRIBUTE_PREFIX = "segment_"


def customer_id(person: Person) -> str:
    return person.email or ""  # require_email has made sure there is one


def _created_at(value: Any) -> datetime | None:
    """The trait as the profile's creation time, or ``None`` when it does not read as one
    (free text from a form, a boolean, a number out of range, a time before the epoch)."""
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=UTC)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment if unix_seconds(moment) >= 0 else None


def identify_attributes(person: Person) -> tuple[dict[str, Any], datetime | None]:
    attributes = {key: value for key, value in person.attributes.items() if value is not None}
    # Customer.io reserves created_at for the creation time in unix seconds and refuses anything
    # else there: a trait of that name is sent as that time when it reads as one, and left out
    # when it does not (a form answer "soon" would dead-letter the whole identify).
    created_at = _created_at(attributes.pop("created_at", None))
    segments = person.memberships_at(SPEC.lists_read)
    for name in segments.join:
        attributes[SEGMENT_ATTRIBUTE_PREFIX + name] = True
    for name in segments.leave:
        attributes[SEGMENT_ATTRIBUTE_PREFIX + name] = False
    for key, value in (
        ("email", person.email),
        ("first_name", person.first_name),
        ("last_name", person.last_name),
        ("stripe_customer_id", person.stripe_customer_id),
    ):
        if value:
            attributes[key] = value
    return attributes, created_at


def deliver(action: Action, client: CustomerIoClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    person = require_email(VENDOR, action)
    identifier = customer_id(person)
    if action.kind is ActionKind.ERASE:
        return erase(VENDOR, "DELETE /customers/{id}", lambda: client.delete_customer(identifier))
    result = DeliveryResult(vendor=VENDOR)
    # A failure stops the delivery (the exception propagates) and the whole message is
    # retried; both calls are idempotent on retry: the PUT is an upsert of the same
    # attributes, and the event's id is the same ULID every time, which Customer.io dedupes.
    if action.identify:
        attributes, created_at = identify_attributes(person)
        client.identify(identifier, attributes, created_at=created_at)
        result.record("PUT /customers/{id}")
    if action.event is not None:
        client.track_event(
            identifier,
            action.event.name,
            action.event.properties,
            timestamp=action.occurred_at,
            event_id=event_ulid(action.id, action.occurred_at),
        )
        result.record("POST /customers/{id}/events")
    if not result.calls:
        result.skipped = "nothing to identify or track"
    return result
