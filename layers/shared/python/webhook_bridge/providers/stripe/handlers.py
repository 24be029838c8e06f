"""One function per mapped Stripe event type (the default mapping table of docs/mapping.md).

Each handler first learns what the event teaches (customer id → email, paid invoices),
even when the type is disabled by configuration, so later events can still be resolved;
then, if the type is enabled, it builds the event's action. An action that would name
nobody (neither an email nor a Stripe customer id) is not built (``Emitter.actions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webhook_bridge.actions import Action, ActionKind, Person, TrackEvent, normalize_email
from webhook_bridge.providers.names import split_name
from webhook_bridge.providers.payload import Payload
from webhook_bridge.providers.stripe.billing import (
    after_refund,
    invoice_payment_intent_id,
    subscription_plan,
    to_invoice,
    to_subscription,
)
from webhook_bridge.providers.stripe.emitter import Emitter, invoice_record
from webhook_bridge.providers.stripe.held import (
    dispute_person,
    invoice_or_hold,
    refund_person,
    release_linked,
    release_paid,
)
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
    invoice_version,
    subscription_key,
    subscription_version,
)
from webhook_bridge.providers.timestamps import iso, utc_or_none
from webhook_bridge.state import HeldDispute, HeldRefund, RememberedInvoice


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
    payment_intent = invoice_payment_intent_id(obj)
    em.ctx.invoices.remember(record, payment_intent)
    released = release_paid(em, record, payment_intent)  # refunds and disputes that came first
    if not em.enabled:
        return released
    first, last = _guest_name(obj.customer, obj.customer_name)
    person = em.person(obj.customer, obj.customer_email, prefer_store=True, first_name=first, last_name=last)
    kind, event = _kind_and_event(
        em, ActionKind.INVOICE, {"invoice_id": obj.id, "amount_paid": obj.amount_paid, "currency": obj.currency}
    )
    paid = em.actions(kind, person, identify=True, event=event)
    version = invoice_version(False, 0, em.event.created, em.event.id)
    return [*paid, *invoice_record(em.origin, ActionKind.INVOICE, person, invoice, version), *released]


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
    released: list[Action] = []
    if payment_intent:
        em.ctx.invoices.link_payment(payment_intent, invoice_id)
        released = release_linked(em, payment_intent, invoice_id)  # refunds and disputes that came first
    if not em.enabled:  # tracked only when configuration extends the table with it
        return released
    # The object names no customer: the person is the paid invoice's, when it is known.
    record = em.ctx.invoices.by_invoice_id(invoice_id)
    return [*generic(em.event.data.object, em, known=record), *released]


def dispute_created(obj: Dispute, em: Emitter) -> list[Action]:
    """A chargeback opened: the person is the disputed invoice's, else the evidence's email
    (rarely set yet); with neither, it is held until the invoice is known (``held.py``)."""
    if not em.enabled:
        return []
    evidence_email = obj.evidence.customer_email_address if obj.evidence else None
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
    # Held only when it names nobody: with an evidence email it goes out now, under that.
    held = HeldDispute(**em.origin.model_dump(), event=event) if event and not evidence_email else None
    record = invoice_or_hold(em, held, ref_id(obj.payment_intent), None)
    return em.actions(kind, dispute_person(em, record, evidence_email), event=event)


def charge_refunded(obj: Charge, em: Emitter) -> list[Action]:
    """The refund's track, and the invoice record refunded when the invoice is known; else the
    refund is held, and the record sent once it is known (``held.py``)."""
    if not em.enabled:
        return []
    version = invoice_version(obj.refunded, obj.amount_refunded, em.event.created, em.event.id)
    held = HeldRefund(
        **em.origin.model_dump(),
        refunded=obj.refunded,
        amount_refunded=obj.amount_refunded,
        stripe_customer_id=ref_id(obj.customer),
        version=version,
    )
    # Before basil the charge names its invoice; from basil on only its payment intent does.
    record = invoice_or_hold(em, held, ref_id(obj.payment_intent), ref_id(obj.invoice))
    carried = (obj.billing_details.email if obj.billing_details else None) or obj.receipt_email
    person = refund_person(em, record, obj.customer, carried)
    kind, event = _kind_and_event(
        em, ActionKind.REFUND, {"amount_refunded": obj.amount_refunded, "currency": obj.currency}
    )
    refund = em.actions(kind, person, event=event)
    if record is None:
        return refund
    refunded = after_refund(record.invoice, obj.refunded, obj.amount_refunded)
    return [*refund, *invoice_record(em.origin, ActionKind.REFUND, person, refunded, version)]


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
