"""Stripe invoices and subscriptions → the vendor-neutral ``Invoice`` and ``Subscription``.

Amounts stay integers in the currency's smallest unit, as Stripe sends them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from webhook_bridge.actions import Invoice, InvoiceItem, Subscription
from webhook_bridge.providers._common import utc, utc_or_none
from webhook_bridge.providers.exceptions import MappingError
from webhook_bridge.providers.stripe.models import (
    Amount,
    InvoiceLine,
    Price,
    Product,
    StripeInvoice,
    StripeSubscription,
    SubscriptionItem,
    ref_id,
)


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


def _line_product(line: InvoiceLine) -> str | Product | None:
    if line.price is not None:
        return line.price.product
    details = line.pricing.price_details if line.pricing else None
    if details is None:
        return None
    if details.product is not None:
        return details.product
    return details.price.product if isinstance(details.price, Price) else None


def _line_item(line: InvoiceLine) -> InvoiceItem:
    product = _line_product(line)
    product_name = product.name if isinstance(product, Product) else None
    nickname = line.price.nickname if line.price else None
    subscription = line.subscription
    if subscription is None and line.parent and line.parent.subscription_item_details:
        subscription = line.parent.subscription_item_details.subscription
    return InvoiceItem(
        id=line.id,
        # Stripe describes a line as quantity, product and unit price; else fall back to what names the product.
        name=line.description or nickname or product_name or ref_id(product) or line.id or "Invoice item",
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
        items=tuple(_line_item(line) for line in invoice.lines.data),
        discount=_sum(invoice.total_discount_amounts),
        tax=invoice_tax(invoice),
        subscription_id=invoice_subscription_id(invoice),
    )


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


def to_subscription(subscription: StripeSubscription, event_type: str) -> Subscription:
    # The first item is the plan; multi-item subscriptions add their items to the amount.
    primary = subscription.items.data[0]
    price = primary.price
    if price.recurring is None:
        raise MappingError("stripe", event_type, ["items.data.0.price.recurring: required for a subscription item"])
    start = _first(subscription.start_date, default=subscription.created)
    # Item-level in basil and later, subscription-level before.
    last_bill = _first(primary.current_period_start, subscription.current_period_start, default=start)
    product = price.product
    return Subscription(
        id=subscription.id,
        status=subscription.status,
        plan=plan_name(price),
        amount=sum(_unit_amount(item.price) * _quantity(item) for item in subscription.items.data),
        currency=subscription.currency or price.currency,
        product_id=product if isinstance(product, str) else product.id,
        product_name=product.name if isinstance(product, Product) else None,
        quantity=_quantity(primary),
        start_date=utc(start),
        last_bill_date=utc(last_bill),
        billing_cycle=price.recurring.interval,
        frequency=price.recurring.interval_count,
        trial_end_date=utc_or_none(subscription.trial_end),
        canceled_date=utc_or_none(subscription.canceled_at),
        end_date=utc_or_none(subscription.cancel_at if subscription.cancel_at is not None else subscription.ended_at),
    )
