"""Stripe invoices and subscriptions → the vendor-neutral ``Invoice`` and ``Subscription``.

Amounts stay integers in the currency's smallest unit, as Stripe sends them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from webhook_bridge.actions import Invoice, InvoiceItem, Subscription
from webhook_bridge.providers.stripe.models import (
    Amount,
    InvoiceLine,
    Price,
    Product,
    Recurring,
    StripeInvoice,
    StripeSubscription,
    SubscriptionItem,
    ref_id,
)
from webhook_bridge.providers.timestamps import utc, utc_or_none


def _first(*values: int | None, default: int) -> int:
    return next((value for value in values if value is not None), default)


def _sum(amounts: list[Amount] | None) -> int | None:
    return None if amounts is None else sum(entry.amount for entry in amounts)


def invoice_tax(invoice: StripeInvoice) -> int | None:
    if invoice.total_taxes is not None:  # basil and later
        return _sum(invoice.total_taxes)
    if invoice.tax is not None:  # older: the total, exclusive and inclusive
        return invoice.tax
    return _sum(invoice.total_tax_amounts)


def invoice_subscription_id(invoice: StripeInvoice) -> str | None:
    if invoice.subscription is not None:
        return ref_id(invoice.subscription)
    details = invoice.parent.subscription_details if invoice.parent else None
    return ref_id(details.subscription) if details else None


def invoice_payment_intent_id(invoice: StripeInvoice) -> str | None:
    if invoice.payment_intent is not None:
        return ref_id(invoice.payment_intent)
    for entry in invoice.payments.data if invoice.payments else []:
        if entry.payment and entry.payment.payment_intent is not None:
            return ref_id(entry.payment.payment_intent)
    return None


def _line_price(line: InvoiceLine) -> Price | None:
    """The line's price when the payload carries it as an object (always before basil, expanded after)."""
    if line.price is not None:
        return line.price
    details = line.pricing.price_details if line.pricing else None
    return details.price if details is not None and isinstance(details.price, Price) else None


def _line_product(line: InvoiceLine) -> str | Product | None:
    details = line.pricing.price_details if line.pricing else None
    if details is not None and details.product is not None:
        return details.product
    price = _line_price(line)
    return price.product if price is not None else None


def product_name(price: Price | None, product: str | Product | None = None) -> str | None:
    """What names the product: the expanded product's name, else the price's nickname."""
    product = product if product is not None else (price.product if price is not None else None)
    name = product.name if isinstance(product, Product) else None
    return name or (price.nickname if price is not None else None) or None


def _line_item(line: InvoiceLine) -> InvoiceItem:
    product = _line_product(line)
    subscription = line.subscription
    if subscription is None and line.parent and line.parent.subscription_item_details:
        subscription = line.parent.subscription_item_details.subscription
    # SegMetrics wants the product's name. Stripe's description ("3 x Pro (at €29.00 / month)")
    # only stands in when the payload names nothing better.
    name = product_name(_line_price(line), product) or line.description or ref_id(product) or line.id
    return InvoiceItem(
        id=line.id,
        name=name or "Invoice item",
        product_id=ref_id(product),
        amount=line.amount,
        subscription_id=ref_id(subscription),
    )


def to_invoice(invoice: StripeInvoice) -> Invoice:
    paid_at = invoice.status_transitions.paid_at if invoice.status_transitions else None
    return Invoice(
        id=invoice.id,
        amount=invoice.total,
        paid=invoice.amount_paid,
        currency=invoice.currency,
        # The purchase date is when the money came in; drafts are created up to an hour earlier.
        date_created=utc(paid_at if paid_at is not None else invoice.created),
        items=tuple(_line_item(line) for line in invoice.lines.data) if invoice.lines else (),
        discount=_sum(invoice.total_discount_amounts),
        tax=invoice_tax(invoice),
        subscription_id=invoice_subscription_id(invoice),
    )


def after_refund(invoice: Invoice, refunded: bool, amount_refunded: int) -> Invoice:
    """The invoice as a charge's refunds leave it: ``refunded``, refunded in full;
    ``amount_refunded``, the charge's cumulative refunds."""
    if refunded:
        return invoice.model_copy(update={"is_refunded": True})
    # Partially refunded: the invoice stands, for less. amount_refunded is cumulative, so
    # the original paid amount minus it is right however many refunds came before.
    return invoice.model_copy(update={"paid": max(0, invoice.paid - amount_refunded)})


def _unit_amount(price: Price) -> int:
    if price.unit_amount is not None:
        return price.unit_amount
    if price.unit_amount_decimal is not None:  # sub-cent prices
        return int(Decimal(price.unit_amount_decimal).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return 0  # tiered prices have no unit amount; what is billed depends on usage


def _quantity(item: SubscriptionItem) -> int:
    return 1 if item.quantity is None else item.quantity


def plan_name(price: Price) -> str:
    product = price.product
    return price.nickname or (product.name if isinstance(product, Product) else None) or price.id


def _recurring_items(subscription: StripeSubscription) -> list[tuple[SubscriptionItem, Price, Recurring]]:
    """Items billed on the cycle; items without a price or with a one-off price are left out."""
    items = subscription.items.data if subscription.items else []
    return [
        (item, item.price, item.price.recurring)
        for item in items
        if item.price is not None and item.price.recurring is not None
    ]


def subscription_plan(subscription: StripeSubscription) -> str | None:
    """The plan's name: the first recurring item's price, else any item's price, else none."""
    recurring = _recurring_items(subscription)
    if recurring:
        return plan_name(recurring[0][1])
    items = subscription.items.data if subscription.items else []
    return next((plan_name(item.price) for item in items if item.price is not None), None)


# Statuses after which the subscription bills no more.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})


def _scheduled_end(subscription: StripeSubscription, primary: SubscriptionItem) -> int | None:
    """When a live subscription will cancel itself: ``cancel_at``, or the end of the current
    period when only ``cancel_at_period_end`` says so (API versions that leave cancel_at null)."""
    if subscription.cancel_at is not None:
        return subscription.cancel_at
    if subscription.cancel_at_period_end:
        return primary.current_period_end or subscription.current_period_end
    return None


def to_subscription(subscription: StripeSubscription, *, as_of: int) -> Subscription | None:
    """The SegMetrics subscription, or ``None`` when no item has a recurring price (nothing
    to bill on a cycle): the action then goes out without it, as identify + track.

    ``as_of`` (the event's ``created``) dates a cancellation that the object does not date.
    An ended subscription has a ``canceled_date`` and no ``end_date``; a live one has the
    date it is scheduled to cancel as ``end_date`` ("a date in the future"), and the
    adapter leaves it out once it has passed.
    """
    recurring = _recurring_items(subscription)
    if not recurring:
        return None
    ended = subscription.status in ENDED_STATUSES
    # The first recurring item is the plan; the other recurring items add to the amount.
    primary, price, cycle = recurring[0]
    start = _first(subscription.start_date, default=subscription.created)
    # Item-level in basil and later, subscription-level before.
    last_bill = _first(primary.current_period_start, subscription.current_period_start, default=start)
    return Subscription(
        id=subscription.id,
        status=subscription.status,
        plan=plan_name(price),
        amount=sum(_unit_amount(item_price) * _quantity(item) for item, item_price, _ in recurring),
        currency=subscription.currency or price.currency,
        product_id=ref_id(price.product) or price.id,
        product_name=product_name(price),
        quantity=_quantity(primary),
        start_date=utc(start),
        last_bill_date=utc(last_bill),
        billing_cycle=cycle.interval,
        frequency=cycle.interval_count,
        trial_end_date=utc_or_none(subscription.trial_end),
        canceled_date=utc(_first(subscription.canceled_at, subscription.ended_at, default=as_of)) if ended else None,
        end_date=None if ended else utc_or_none(_scheduled_end(subscription, primary)),
    )
