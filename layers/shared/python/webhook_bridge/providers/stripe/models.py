"""The parts of Stripe's payloads the mapping reads, for both API shapes.

Older API versions (before 2025-03-31.basil) put ``subscription`` and ``payment_intent``
on the invoice, ``price`` on invoice lines, ``invoice`` on charges and
``current_period_*`` on the subscription. Basil and later (e.g. 2025-09-30.clover) moved
them to ``invoice.parent.subscription_details``, ``line.pricing.price_details``,
``line.parent.subscription_item_details`` and the subscription items, and dropped
``charge.invoice``. Fields of either shape are optional here; the mapping reads
whichever is present. Expandable fields accept an id or the expanded object.

Only what the mapping cannot do without is required, and only where Stripe documents it
as always present in both shapes (ids, amounts, currencies, ``created``, ``status``).
Everything Stripe may send as null or leave out (nested objects, prices on some line
types or items, ``recurring`` on one-off prices, the invoice's ``lines``) is optional:
refusing a legitimate payload with a 400 would lose the event for good.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from webhook_bridge.providers.payload import Epoch, Payload

NonEmpty = Annotated[str, Field(min_length=1)]
Count = Annotated[int, Field(ge=0)]
# unit_amount_decimal is a decimal string in the smallest unit, e.g. "1250.5"
DecimalText = Annotated[str, Field(pattern=r"^\d{1,18}(\.\d{1,12})?$")]


class Ref(Payload):
    """An expanded object of which we only need the id."""

    id: NonEmpty


class CustomerRef(Payload):
    id: NonEmpty
    email: str | None = None
    name: str | None = None


class Product(Payload):
    id: NonEmpty
    name: str | None = None


ExpandableCustomer = NonEmpty | CustomerRef | None
ExpandableProduct = NonEmpty | Product
Expandable = NonEmpty | Ref | None


def ref_id(value: str | Ref | CustomerRef | Product | None) -> str | None:
    return value if isinstance(value, str) or value is None else value.id


class EventData(Payload):
    object: dict[str, Any]


class StripeEvent(Payload):
    id: NonEmpty
    type: NonEmpty
    created: Epoch
    api_version: str | None = None
    data: EventData


class Customer(Payload):
    id: NonEmpty
    email: str | None = None
    name: str | None = None


class CustomerDetails(Payload):
    email: str | None = None
    name: str | None = None


class CheckoutSession(Payload):
    id: NonEmpty
    customer: ExpandableCustomer = None
    customer_details: CustomerDetails | None = None
    customer_email: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    mode: str | None = None
    # Stripe metadata values are strings; anything else is left out by the attribution.
    metadata: dict[str, Any] | None = None


class Recurring(Payload):
    interval: Literal["day", "week", "month", "year"]
    interval_count: Annotated[int, Field(ge=1)]


class Price(Payload):
    id: NonEmpty
    nickname: str | None = None
    product: ExpandableProduct
    unit_amount: int | None = None
    unit_amount_decimal: DecimalText | None = None
    currency: str | None = None
    recurring: Recurring | None = None


class PriceDetails(Payload):
    price: NonEmpty | Price | None = None
    product: ExpandableProduct | None = None


class LinePricing(Payload):
    price_details: PriceDetails | None = None


class SubscriptionItemDetails(Payload):
    subscription: Expandable = None


class LineParent(Payload):
    subscription_item_details: SubscriptionItemDetails | None = None


class InvoiceLine(Payload):
    id: str | None = None
    description: str | None = None
    amount: int
    price: Price | None = None  # before basil
    pricing: LinePricing | None = None  # basil and later
    subscription: Expandable = None  # before basil
    parent: LineParent | None = None  # basil and later


class InvoiceLines(Payload):
    data: list[InvoiceLine] = []


class Amount(Payload):
    amount: int


class StatusTransitions(Payload):
    paid_at: Epoch | None = None


class SubscriptionDetails(Payload):
    subscription: Expandable = None


class InvoiceParent(Payload):
    subscription_details: SubscriptionDetails | None = None


class PaymentRef(Payload):
    payment_intent: Expandable = None


class InvoicePaymentEntry(Payload):
    payment: PaymentRef | None = None


class InvoicePayments(Payload):
    data: list[InvoicePaymentEntry] = []


class StripeInvoice(Payload):
    id: NonEmpty
    customer: ExpandableCustomer = None
    customer_email: str | None = None
    customer_name: str | None = None
    currency: str
    created: Epoch
    total: int
    amount_paid: int
    amount_due: int
    attempt_count: Count
    lines: InvoiceLines | None = None
    status_transitions: StatusTransitions | None = None
    total_discount_amounts: list[Amount] | None = None
    total_taxes: list[Amount] | None = None  # basil and later
    tax: int | None = None  # before basil
    total_tax_amounts: list[Amount] | None = None  # before basil
    subscription: Expandable = None  # before basil
    parent: InvoiceParent | None = None  # basil and later
    payment_intent: Expandable = None  # before basil
    payments: InvoicePayments | None = None  # basil and later, only when included


class UpcomingInvoice(Payload):
    """``invoice.upcoming``: the invoice a subscription will create, days ahead; it has no id yet."""

    customer: ExpandableCustomer = None
    customer_email: str | None = None
    currency: str
    amount_due: int
    next_payment_attempt: Epoch | None = None


class DisputeEvidence(Payload):
    customer_email_address: str | None = None


class Dispute(Payload):
    """``charge.dispute.*``: names its charge and payment intent, not the customer."""

    id: NonEmpty
    amount: int
    currency: str
    reason: str
    status: str
    payment_intent: Expandable = None
    evidence: DisputeEvidence | None = None


class InvoicePayment(Payload):
    """``invoice_payment.paid`` (basil and later): the only place linking a payment intent to its invoice."""

    id: NonEmpty
    invoice: NonEmpty | Ref
    payment: PaymentRef


class BillingDetails(Payload):
    email: str | None = None


class Charge(Payload):
    id: NonEmpty
    customer: ExpandableCustomer = None
    amount_refunded: int
    currency: str
    refunded: bool
    invoice: Expandable = None  # before basil
    payment_intent: Expandable = None
    billing_details: BillingDetails | None = None
    receipt_email: str | None = None


class SubscriptionItem(Payload):
    price: Price | None = None
    quantity: Count | None = None  # absent for metered prices
    current_period_start: Epoch | None = None  # basil and later
    current_period_end: Epoch | None = None  # basil and later


class SubscriptionItems(Payload):
    data: list[SubscriptionItem] = []


class StripeSubscription(Payload):
    id: NonEmpty
    customer: ExpandableCustomer = None
    status: NonEmpty
    items: SubscriptionItems | None = None
    currency: str | None = None
    created: Epoch
    start_date: Epoch | None = None
    current_period_start: Epoch | None = None  # before basil
    current_period_end: Epoch | None = None  # before basil
    trial_end: Epoch | None = None
    canceled_at: Epoch | None = None
    cancel_at: Epoch | None = None
    cancel_at_period_end: bool | None = None
    ended_at: Epoch | None = None
