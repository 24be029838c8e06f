"""An Action as SegMetrics calls (SegMetrics keeps contacts, purchases and subscriptions;
it has no event stream, so a track-only action has nothing to send).

- identify (any action with ``identify``): ``POST /contact`` {identifiers, names,
  custom_fields = traits, the known attribution fields (utm_*, referring_url, optin_url,
  ip_address) as SegMetrics' own fields}, then ``POST /tags/add`` with the tags to join and
  ``POST /tags/remove`` with the tags to leave (``Person.memberships``), each only when
  non-empty. Tags go through /tags/add because only that endpoint documents tag *names*;
  /contact takes tag ids or objects. Other vendors' lists (ConvertLoop segments) are not
  SegMetrics tags: the spec says whose lists SegMetrics reads (``lists_read``);
- invoice: ``POST /invoice`` {id, amount = total, paid, date_created, items, discount,
  tax, is_refunded 1/0}; an invoice without lines gets one item named after it;
- subscription: ``POST /subscription`` {id, amount, product_id, name = product name,
  quantity, start/last bill/trial end/end/canceled dates, billing_cycle, frequency};
  ``end_date`` only while it is in the future at delivery time.
- erase: ``DELETE /contact/{contact_id or email}``, the id it was upserted under (a 404
  means already gone). Its invoices and subscriptions stay: the document says so.

An invoice or subscription action that identifies (invoice_paid, subscription_*) makes
the identify calls first, then ``POST /invoice`` / ``POST /subscription``: the document
adds a subscription "to the existing contact". Without ``identify`` (a refund) it is the
one purchase call. A track with ``identify`` (checkout_completed) is the identify calls.

The contact is named by ``contact_id`` = the Stripe customer id and ``email``, each when
known. Datetimes leave as ``YYYY-MM-DD HH:MM:SS`` UTC. Amounts arrive in the currency's
smallest unit, as Stripe sends them, and leave in cents (``currency.to_cents``): ¥4,500 is
450000, KWD 5.120 is 512, $45.00 stays 4500.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from webhook_bridge.actions import Action, ActionKind, Invoice, Person, Subscription
from webhook_bridge.currency import to_cents
from webhook_bridge.vendors.identifiers import require_identified
from webhook_bridge.vendors.results import DeliveryResult, erase
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient
from webhook_bridge.vendors.segmetrics.models import (
    VENDOR,
    ContactRequest,
    InvoiceRequest,
    SubscriptionRequest,
    TagsRemoveRequest,
    TagsRequest,
)
from webhook_bridge.vendors.segmetrics.spec import SPEC
from webhook_bridge.vendors.wire_formats import scalar_traits, segmetrics_datetime

# Leaving out an end_date this close costs nothing: the cancellation itself follows.
END_DATE_MARGIN = timedelta(minutes=5)


def contact_reference(person: Person) -> dict[str, Any]:
    reference: dict[str, Any] = {}
    if person.stripe_customer_id:
        reference["contact_id"] = person.stripe_customer_id
    if person.email:
        reference["email"] = person.email
    return reference


def invoice_request(invoice: Invoice, person: Person) -> InvoiceRequest:
    def cents(amount: int | None) -> int | None:
        return None if amount is None else to_cents(amount, invoice.currency)

    items = [
        {
            "id": item.id,
            "name": item.name,
            # SegMetrics requires a product id and creates unknown products; a line without
            # one (rare in Stripe) is grouped under its name rather than a throwaway id.
            "product_id": item.product_id or item.name,
            "amount": cents(item.amount),
            "subscription_id": item.subscription_id or invoice.subscription_id,
        }
        for item in invoice.items
    ]
    if not items:
        name = f"Invoice {invoice.id}"
        items = [
            {
                "name": name,
                "product_id": name,
                "amount": cents(invoice.amount),
                "subscription_id": invoice.subscription_id,
            }
        ]
    return InvoiceRequest.parse(
        {
            **contact_reference(person),
            "id": invoice.id,
            "amount": cents(invoice.amount),
            "paid": cents(invoice.paid),
            "date_created": invoice.date_created,
            "items": [{k: v for k, v in item.items() if v is not None} for item in items],
            "discount": cents(invoice.discount),
            "tax": cents(invoice.tax),
            "is_refunded": invoice.is_refunded,
        }
    )


def subscription_request(
    subscription: Subscription, person: Person, *, now: datetime | None = None
) -> SubscriptionRequest:
    """``end_date`` only while it is still ahead of ``now`` (default: the moment of delivery)
    by ``END_DATE_MARGIN``: SegMetrics takes "a date in the future", a delivery may come
    after a scheduled end, and a date seconds ahead could be past when the request lands."""
    end_date = subscription.end_date
    if end_date is not None and end_date <= (now or datetime.now(UTC)) + END_DATE_MARGIN:
        end_date = None
    return SubscriptionRequest.parse(
        {
            **contact_reference(person),
            "id": subscription.id,
            "amount": to_cents(subscription.amount, subscription.currency),
            "product_id": subscription.product_id,
            "name": subscription.product_name,
            "quantity": subscription.quantity,
            "start_date": subscription.start_date,
            "last_bill_date": subscription.last_bill_date,
            "billing_cycle": subscription.billing_cycle,
            "frequency": subscription.frequency,
            "trial_end_date": subscription.trial_end_date,
            "end_date": end_date,
            "canceled_date": subscription.canceled_date,
        }
    )


def contact_request(person: Person) -> ContactRequest:
    fields: dict[str, Any] = contact_reference(person)
    if person.first_name:
        fields["first_name"] = person.first_name
    if person.last_name:
        fields["last_name"] = person.last_name
    if person.traits:
        # keep_none: a null custom field is how SegMetrics clears it (the document's "field_to_remove").
        fields["custom_fields"] = scalar_traits(person.traits, keep_none=True, datetime_format=segmetrics_datetime)
    # SegMetrics' own contact fields; only those known, so nothing known is ever blanked.
    fields.update(person.attribution.known())
    return ContactRequest.parse(fields)


def deliver(action: Action, client: SegMetricsClient, *, idempotency_key: str | None = None) -> DeliveryResult:
    person = require_identified(VENDOR, action)
    if action.kind is ActionKind.ERASE:
        contact = person.stripe_customer_id or person.email or ""  # the contact_id we upsert under
        return erase(VENDOR, "DELETE /contact/{id_or_email}", lambda: client.delete_contact(contact))
    result = DeliveryResult(vendor=VENDOR)
    # Contact first, then the purchase. A failure stops the delivery (the exception
    # propagates) and the whole message is retried; every call is idempotent on retry:
    # /contact is "add or update", tags/add and tags/remove set membership, and invoices
    # and subscriptions are keyed by their Stripe id ("if the subscription id already
    # exist, it will be updated").
    if action.identify:
        client.upsert_contact(contact_request(person))
        result.record("POST /contact")
        tags = person.memberships_at(SPEC.lists_read)
        if tags.join:
            client.add_tags(TagsRequest(**contact_reference(person), tags=list(tags.join)))
            result.record("POST /tags/add")
        if tags.leave:
            client.remove_tags(TagsRemoveRequest(**contact_reference(person), tags=list(tags.leave)))
            result.record("POST /tags/remove")
    if action.invoice is not None:
        client.add_invoice(invoice_request(action.invoice, person))
        result.record("POST /invoice")
    if action.subscription is not None:
        client.add_subscription(subscription_request(action.subscription, person))
        result.record("POST /subscription")
    if not result.calls:
        result.skipped = "SegMetrics has no event stream: nothing to send for a track-only action"
    return result
