"""An Action as Loops calls.

- identify only: ``PUT /contacts/update`` {email, firstName, lastName, stripe_customer_id, traits
  and known attribution (``Person.attributes``) as contact properties} (creates the contact when missing);
- event only: ``POST /events/send`` {email, eventName};
- erase: ``POST /contacts/delete`` {email} (a 404 means already gone);
- identify and event (checkout_completed, invoice_paid, subscription_*):
  ``PUT /contacts/update`` as above, then ``POST /events/send`` with the email and
  eventName only (the contact properties are not repeated).

No ``eventProperties``: the document defines an event as ``email`` and ``eventName``, and
every other field of its body as a contact attribute, so a nested object there would be
refused. The event's details (amounts, plan) reach Loops as the contact properties of the
identify call that precedes it, where the mapping sets them.

Every ``POST /events/send`` carries ``Idempotency-Key`` = the message's key, stable
across retries; a 409 means an earlier attempt got through (``duplicate``).

The contact is the email, alone (the document: "The only required field is email"; events:
"Both fields are required"), as at every vendor (docs/architecture.md, "Identity"). The Stripe
customer id is a contact property, never Loops' ``userId``: Loops finds a contact by its userId
before its email, and Stripe lets two customers share one email, so the second customer's
update would name a contact whose email another contact holds, which Loops refuses (409)
for as long as it is retried.

Loops properties are flat (strings, numbers, booleans, dates): lists of plain values
become ``"a, b"``, anything more nested compact JSON text, ``None`` is left out.

Segments (and SegMetrics tags) are not sent: Loops' equivalent is mailing lists, addressed by list *ids* that
our segment *names* do not give us, and the documented API has no way to add a contact
to a named group. A trait reaches Loops as a contact property instead, which Loops'
audience filters can use.
"""

from __future__ import annotations

from typing import Any

from webhook_bridge.actions import Action, ActionKind, Person
from webhook_bridge.vendors.identifiers import require_email
from webhook_bridge.vendors.loops.client import VENDOR, ContactUpdateRequest, EventRequest, LoopsClient
from webhook_bridge.vendors.results import DeliveryResult, erase
from webhook_bridge.vendors.wire_formats import scalar_traits

# Keys the adapter owns; a trait of the same name would silently override them.
_RESERVED = frozenset({"email", "userId", "user_id", "firstName", "lastName", "eventName"})


def identity(person: Person) -> dict[str, Any]:
    return {"email": person.email} if person.email else {}


def contact_properties(person: Person) -> dict[str, Any]:
    properties = scalar_traits(person.attributes, reserved=_RESERVED)
    if person.stripe_customer_id:
        properties["stripe_customer_id"] = person.stripe_customer_id
    if person.first_name:
        properties["firstName"] = person.first_name
    if person.last_name:
        properties["lastName"] = person.last_name
    return properties


def idempotency_key_for(action: Action) -> str:
    from webhook_bridge.actions import VendorMessage
    from webhook_bridge.vendors.catalog import Vendor

    return VendorMessage(vendor=Vendor(VENDOR), action=action).idempotency_token


def deliver(action: Action, client: LoopsClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    person = require_email(VENDOR, action)
    if action.kind is ActionKind.ERASE:
        return erase(VENDOR, "POST /contacts/delete", lambda: client.delete_contact(email=person.email))
    result = DeliveryResult(vendor=VENDOR)
    # Contact first, so the event's workflows see up-to-date properties. A failure stops
    # the delivery (the exception propagates) and the whole message is retried; both
    # calls are idempotent on retry: contacts/update is an upsert of the same properties,
    # and the event carries the same Idempotency-Key every time (409 = already sent).
    if action.identify:
        fields = contact_properties(person)
        fields.update(identity(person))
        client.update_contact(ContactUpdateRequest.parse(fields))
        result.record("PUT /contacts/update")
    if action.event is not None:
        fields = identity(person)
        fields["eventName"] = action.event.name
        sent = client.send_event(EventRequest.parse(fields), idempotency_key or idempotency_key_for(action))
        result.record("POST /events/send")
        result.duplicate = sent.duplicate
    if not result.calls:
        result.skipped = "nothing to identify or track"
    return result
