"""One function per mapped Stripe event type (the default mapping table of docs/mapping.md).

Each handler first learns what the event teaches (customer id → email, paid invoices),
even when the type is disabled by configuration, so later events can still be resolved;
then, if the type is enabled, it builds the event's action. An action that would name
nobody (neither an email nor a Stripe customer id) is not built (``Emitter.actions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webhook_bridge.actions import Action, ActionKind, Invoice, Person, TrackEvent, normalize_email
from webhook_bridge.providers.names import split_name
from webhook_bridge.providers.payload import Payload
from webhook_bridge.providers.stripe.billing import (
    invoice_payment_intent_id,
    subscription_plan,
    to_invoice,
    to_subscription,
)
from webhook_bridge.providers.stripe.emitter import Emitter
from webhook_bridge.providers.stripe.models import (
    Charge,
    CheckoutSession,
    Customer,
    Dispute,
    InvoicePayment,
    StripeInvoice,
    StripeSubscription,
    UpcomingInvoice,
    ref_id,
)
from webhook_bridge.providers.stripe.ordering import (
    customer_erasure_version,
    customer_key,
    customer_version,
    invoice_key,
    invoice_version,
    subscription_key,
    subscription_version,
)
from webhook_bridge.providers.timestamps import iso, utc_or_none
from webhook_bridge.state import RememberedInvoice


def _kind_and_event(
    emitter: Emitter, default: ActionKind, track_properties: dict[str, Any]
) -> tuple[ActionKind, TrackEvent | None]:
    event = emitter.track(track_properties)
    # An identify-only type that configuration gave an event name becomes a track.
    return (ActionKind.TRACK if default is ActionKind.IDENTIFY and event else default), event


def _guest_name(customer: object, name: str | None) -> tuple[str | None, str | None]:
    """A name copied onto a checkout or an invoice counts only for a guest: a customer's name
    is the customer object's, ordered with it; the copy, sent unordered, would undo a rename."""
    return split_name(name) if customer is None else (None, None)


def customer(obj: Customer, em: Emitter) -> list[Action]:
    em.learn_identity(obj.id, obj.email)
    if not em.enabled:
        return []
    first, last = split_name(obj.name)
    person = Person(
        email=obj.email,
        stripe_customer_id=obj.id,
        first_name=first,
        last_name=last,
        traits={"stripe_customer_id": obj.id},
    )
    kind, event = _kind_and_event(em, ActionKind.IDENTIFY, {})
    return em.actions(
        kind,
        person,
        identify=True,
        event=event,
        ordering_key=customer_key(obj.id),
        ordering_version=customer_version(em.event.created, em.event.id),
    )


def customer_deleted(obj: Customer, em: Emitter) -> list[Action]:
    """Erasure, only where configuration opts in (``erase``): the person is deleted at every
    vendor that can, the identity store forgets the email, and the erase outranks every
    other state of the customer so nothing late recreates the person (docs/architecture.md)."""
    if not em.ctx.config.stripe.erases(em.event.type):
        # Outside the default table: tracked only if configuration names an event for it.
        return generic(em.event.data.object, em) if em.enabled else []
    version = customer_erasure_version(em.event.created, em.event.id)
    # The object's email, else the remembered one: read before it is forgotten.
    email = normalize_email(obj.email) or em.ctx.identities.lookup(obj.id)
    em.ctx.identities.forget(obj.id, version)
    if email is None:
        return []  # no vendor was ever sent this customer: every one keys a person by email
    person = Person(email=email, stripe_customer_id=obj.id)
    return em.actions(ActionKind.ERASE, person, ordering_key=customer_key(obj.id), ordering_version=version)


def checkout_completed(obj: CheckoutSession, em: Emitter) -> list[Action]:
    details = obj.customer_details
    email = (details.email if details else None) or obj.customer_email
    em.learn_identity(obj.customer, email)
    if not em.enabled:
        return []
    first, last = _guest_name(obj.customer, details.name if details else None)
    attribution, _ = em.ctx.config.attribution.split(obj.metadata or {})  # the session's utm_* metadata
    person = em.person(obj.customer, email, first_name=first, last_name=last, attribution=attribution)
    kind, event = _kind_and_event(
        em, ActionKind.TRACK, {"amount_total": obj.amount_total, "currency": obj.currency, "mode": obj.mode}
    )
    return em.actions(kind, person, identify=True, event=event)


def invoice_paid(obj: StripeInvoice, em: Emitter) -> list[Action]:
    invoice = to_invoice(obj)
    # The invoice's customer_email was frozen when it was finalized: not an authority on
    # the customer's email now, so it teaches nothing (only an expanded customer does).
    em.learn_identity(obj.customer, None)
    record = RememberedInvoice(
        invoice=invoice, email=normalize_email(obj.customer_email), stripe_customer_id=ref_id(obj.customer)
    )
    em.ctx.invoices.remember(record, invoice_payment_intent_id(obj))
    if not em.enabled:
        return []
    first, last = _guest_name(obj.customer, obj.customer_name)
    person = em.person(obj.customer, obj.customer_email, prefer_store=True, first_name=first, last_name=last)
    kind, event = _kind_and_event(
        em, ActionKind.INVOICE, {"invoice_id": obj.id, "amount_paid": obj.amount_paid, "currency": obj.currency}
    )
    return em.actions(
        kind,
        person,
        identify=True,
        event=event,
        invoice=invoice,
        ordering_key=invoice_key(invoice.id),
        ordering_version=invoice_version(False, 0, em.event.created, em.event.id),
    )


def invoice_payment_failed(obj: StripeInvoice, em: Emitter) -> list[Action]:
    em.learn_identity(obj.customer, None)  # customer_email is frozen: see invoice_paid
    if not em.enabled:
        return []
    person = em.person(obj.customer, obj.customer_email, prefer_store=True)
    kind, event = _kind_and_event(
        em,
        ActionKind.TRACK,
        {
            "invoice_id": obj.id,
            "amount_due": obj.amount_due,
            "currency": obj.currency,
            "attempt_count": obj.attempt_count,
        },
    )
    return em.actions(kind, person, event=event)


def invoice_upcoming(obj: UpcomingInvoice, em: Emitter) -> list[Action]:
    """A renewal ahead (Stripe's "upcoming renewal events" setting says how many days)."""
    em.learn_identity(obj.customer, None)  # customer_email is frozen: see invoice_paid
    if not em.enabled:
        return []
    person = em.person(obj.customer, obj.customer_email, prefer_store=True)
    attempt = utc_or_none(obj.next_payment_attempt)
    kind, event = _kind_and_event(
        em,
        ActionKind.TRACK,
        {
            "amount_due": obj.amount_due,
            "currency": obj.currency,
            "next_payment_attempt": iso(attempt) if attempt else None,
        },
    )
    return em.actions(kind, person, event=event)


def invoice_payment_paid(obj: InvoicePayment, em: Emitter) -> list[Action]:
    """Basil and later: the invoice no longer names its payment intent, this event does."""
    invoice_id = obj.invoice if isinstance(obj.invoice, str) else obj.invoice.id
    payment_intent = ref_id(obj.payment.payment_intent)
    if payment_intent:
        em.ctx.invoices.link_payment(payment_intent, invoice_id)
    if not em.enabled:  # tracked only when configuration extends the table with it
        return []
    # The object names no customer: the person is the paid invoice's, when it is known.
    record = em.ctx.invoices.by_invoice_id(invoice_id)
    return generic(em.event.data.object, em, known=record)


def _refunded_invoice(obj: Charge, em: Emitter) -> RememberedInvoice | None:
    invoice_id = ref_id(obj.invoice)
    if invoice_id:  # before basil the charge names its invoice
        return em.ctx.invoices.by_invoice_id(invoice_id)
    payment_intent = ref_id(obj.payment_intent)
    return em.ctx.invoices.by_payment_intent(payment_intent) if payment_intent else None


def dispute_created(obj: Dispute, em: Emitter) -> list[Action]:
    """A chargeback opened: the person is the disputed invoice's, else the evidence's email (rarely set yet)."""
    if not em.enabled:
        return []
    payment_intent = ref_id(obj.payment_intent)
    record = em.ctx.invoices.by_payment_intent(payment_intent) if payment_intent else None
    evidence_email = obj.evidence.customer_email_address if obj.evidence else None
    customer = record.stripe_customer_id if record else None
    person = em.person(customer, (record.email if record else None) or evidence_email, prefer_store=True)
    kind, event = _kind_and_event(
        em,
        ActionKind.TRACK,
        {
            "dispute_id": obj.id,
            "amount": obj.amount,
            "currency": obj.currency,
            "reason": obj.reason,
            "status": obj.status,
        },
    )
    return em.actions(kind, person, event=event)


def _after_refund(invoice: Invoice, obj: Charge) -> Invoice:
    if obj.refunded:  # fully refunded
        return invoice.model_copy(update={"is_refunded": True})
    # Partially refunded: the invoice stands, for less. amount_refunded is cumulative, so
    # the original paid amount minus it is right however many refunds came before.
    return invoice.model_copy(update={"paid": max(0, invoice.paid - obj.amount_refunded)})


def charge_refunded(obj: Charge, em: Emitter) -> list[Action]:
    if not em.enabled:
        return []
    record = _refunded_invoice(obj, em)
    if record is not None and record.email:
        person = Person(email=record.email, stripe_customer_id=ref_id(obj.customer) or record.stripe_customer_id)
    else:
        # The billing email is whatever was typed into the payment form; the customer's own
        # email (as remembered) keeps the refund on the same contact as the purchase.
        carried = (obj.billing_details.email if obj.billing_details else None) or obj.receipt_email
        customer = obj.customer or (record.stripe_customer_id if record else None)
        person = em.person(customer, carried, prefer_store=True)
    kind, event = _kind_and_event(
        em, ActionKind.REFUND, {"amount_refunded": obj.amount_refunded, "currency": obj.currency}
    )
    if record is None:
        return em.actions(kind, person, event=event)
    return em.actions(
        kind,
        person,
        event=event,
        invoice=_after_refund(record.invoice, obj),
        ordering_key=invoice_key(record.invoice.id),
        ordering_version=invoice_version(obj.refunded, obj.amount_refunded, em.event.created, em.event.id),
    )


def subscription_changed(obj: StripeSubscription, em: Emitter) -> list[Action]:
    em.learn_identity(obj.customer, None)  # only when the customer is expanded
    if not em.enabled:
        return []
    # None when no item has a recurring price: the action still identifies and tracks.
    subscription = to_subscription(obj, as_of=em.event.created)
    plan = subscription.plan if subscription else subscription_plan(obj)
    traits = {"subscription_status": obj.status, **({"plan": plan} if plan is not None else {})}
    person = em.person(obj.customer, None, traits=traits)
    kind, event = _kind_and_event(
        em,
        ActionKind.SUBSCRIPTION,
        {
            "subscription_id": obj.id,
            "status": obj.status,
            "plan": plan,
            "amount": subscription.amount if subscription else None,
            "currency": subscription.currency if subscription else obj.currency,
        },
    )
    return em.actions(
        kind,
        person,
        identify=True,
        event=event,
        subscription=subscription,
        ordering_key=subscription_key(obj.id),
        ordering_version=subscription_version(em.event.type, em.event.created, obj.status, em.event.id),
    )


def trial_will_end(obj: StripeSubscription, em: Emitter) -> list[Action]:
    em.learn_identity(obj.customer, None)
    if not em.enabled:
        return []
    trial_end = utc_or_none(obj.trial_end)
    kind, event = _kind_and_event(em, ActionKind.TRACK, {"trial_end": iso(trial_end) if trial_end else None})
    return em.actions(kind, em.person(obj.customer, None), event=event)


_EMAIL_PATHS = ("email", "customer_email", "receipt_email")


def generic(obj: dict[str, Any], em: Emitter, known: RememberedInvoice | None = None) -> list[Action]:
    """A type without a default mapping that configuration asked to track.

    ``known``: an invoice the object belongs to, whose person stands in for a missing one.
    """
    customer = obj.get("customer")
    customer_id = customer if isinstance(customer, str) else None
    if isinstance(customer, dict) and isinstance(customer.get("id"), str):
        customer_id = customer["id"]
    if obj.get("object") == "customer" and isinstance(obj.get("id"), str):
        customer_id = obj["id"]
    emails = [obj.get(key) for key in _EMAIL_PATHS]
    for nested in ("customer_details", "billing_details"):
        if isinstance(obj.get(nested), dict):
            emails.append(obj[nested].get("email"))
    email = next((value for value in emails if isinstance(value, str) and normalize_email(value)), None)
    if known is not None:
        customer_id = customer_id or known.stripe_customer_id
        email = email or known.email
    object_id = obj.get("id")
    kind, event = _kind_and_event(
        em, ActionKind.TRACK, {"object_id": object_id if isinstance(object_id, str) else None}
    )
    return em.actions(kind, em.person(customer_id or None, email), event=event)


Handler = tuple[type[Payload], Callable[[Any, Emitter], list[Action]]]

HANDLERS: dict[str, Handler] = {
    "customer.created": (Customer, customer),
    "customer.updated": (Customer, customer),
    "customer.deleted": (Customer, customer_deleted),
    "checkout.session.completed": (CheckoutSession, checkout_completed),
    # Delayed payment methods (SEPA, bank transfers): the session completed unpaid, now settled either way.
    "checkout.session.async_payment_succeeded": (CheckoutSession, checkout_completed),
    "checkout.session.async_payment_failed": (CheckoutSession, checkout_completed),
    "invoice.paid": (StripeInvoice, invoice_paid),
    "invoice.payment_failed": (StripeInvoice, invoice_payment_failed),
    "invoice.upcoming": (UpcomingInvoice, invoice_upcoming),
    "invoice_payment.paid": (InvoicePayment, invoice_payment_paid),
    "charge.refunded": (Charge, charge_refunded),
    "charge.dispute.created": (Dispute, dispute_created),
    "customer.subscription.created": (StripeSubscription, subscription_changed),
    "customer.subscription.updated": (StripeSubscription, subscription_changed),
    "customer.subscription.deleted": (StripeSubscription, subscription_changed),
    "customer.subscription.paused": (StripeSubscription, subscription_changed),
    "customer.subscription.resumed": (StripeSubscription, subscription_changed),
    "customer.subscription.trial_will_end": (StripeSubscription, trial_will_end),
}
