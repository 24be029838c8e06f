"""Refunds and disputes that arrive before their invoice is known (docs/mapping.md, "Refunds").

From basil on a charge does not name its invoice: a refund or a dispute reaches it only
through the payment intent's link, which ``invoice.paid`` / ``invoice_payment.paid`` teach;
before basil the charge names it, but the invoice itself is known only after ``invoice.paid``.
Stripe sends in any order, so a refund or dispute that finds no invoice is held in the state
table, and the webhook that makes the invoice known sends what was held, as the original
event's action.

Nothing is lost when both sides run at once, because each writes before it reads (strongly
consistent reads): the refund or dispute writes its hold, then reads the link and the invoice;
the link writer writes the link or the invoice, then reads the holds. Whichever reads last sees
the other's write, so at least one side sends. When both do, the action carries the original
event's id (once per vendor, ``delivery/once.py``) and, for a refund, the version of the refund's
own invoice state (the ordering ledger keeps the newest): each vendor still gets it once.

Holds are looked up by invoice id after ``invoice.paid`` (basil invoices name no payment
intent), so a hold under a payment intent is copied under the invoice id once the link is
known, before the invoice is read.
"""

from __future__ import annotations

from webhook_bridge.actions import Action, ActionKind, Person
from webhook_bridge.providers.stripe.billing import after_refund
from webhook_bridge.providers.stripe.emitter import Emitter, invoice_record
from webhook_bridge.providers.stripe.models import ExpandableCustomer, ref_id
from webhook_bridge.state import Held, HeldDispute, HeldRefund, InvoiceMemory, RememberedInvoice


def invoice_or_hold(
    em: Emitter, held: HeldRefund | HeldDispute | None, payment_intent: str | None, invoice_id: str | None
) -> RememberedInvoice | None:
    """The invoice a charge's refund or dispute belongs to (``invoice_id`` when the charge names
    it, else through ``payment_intent``); when unknown, ``held`` is kept for the link writers."""
    memory = em.ctx.invoices
    record = _known(memory, payment_intent, invoice_id)
    if record is not None or held is None:
        return record
    memory.hold(held, payment_intent, invoice_id)  # first the hold, then the reads (module docstring)
    linked = invoice_id or (memory.linked_invoice(payment_intent) if payment_intent else None)
    if linked is None:
        return None
    if linked != invoice_id:
        memory.hold(held, None, linked)
    return memory.by_invoice_id(linked)


def _known(memory: InvoiceMemory, payment_intent: str | None, invoice_id: str | None) -> RememberedInvoice | None:
    if invoice_id:
        return memory.by_invoice_id(invoice_id)
    return memory.by_payment_intent(payment_intent) if payment_intent else None


def release_paid(em: Emitter, record: RememberedInvoice, payment_intent: str | None) -> list[Action]:
    """After ``invoice.paid`` remembered ``record``: what was held for it."""
    return _released(em, em.ctx.invoices.held(payment_intent, record.invoice.id), record)


def release_linked(em: Emitter, payment_intent: str, invoice_id: str) -> list[Action]:
    """After ``invoice_payment.paid`` linked ``payment_intent`` to ``invoice_id``: what was held
    for the payment intent, once the invoice is known; until then held under the invoice id."""
    memory = em.ctx.invoices
    held = memory.held(payment_intent, None)
    if not held:
        return []
    for each in (held.refund, *held.disputes):
        if each is not None:
            memory.hold(each, None, invoice_id)
    record = memory.by_invoice_id(invoice_id)
    return _released(em, held, record) if record is not None else []


def _released(em: Emitter, held: Held, record: RememberedInvoice) -> list[Action]:
    actions = []
    if held.refund is not None:
        refund = held.refund
        # State only: the refund's own track event went out when it arrived.
        person = refund_person(em, record, refund.stripe_customer_id, None)
        refunded = after_refund(record.invoice, refund.refunded, refund.amount_refunded)
        actions += invoice_record(refund, ActionKind.REFUND, person, refunded, refund.version)
    for dispute in held.disputes:
        actions += em.actions_of(dispute, ActionKind.TRACK, dispute_person(em, record, None), event=dispute.event)
    return actions


def refund_person(
    em: Emitter, record: RememberedInvoice | None, customer: ExpandableCustomer, carried: str | None
) -> Person:
    """The refunded invoice's person, else the customer's remembered email, else ``carried``
    (the billing email is whatever was typed into the payment form: the customer's own email
    keeps the refund on the same contact as the purchase)."""
    if record is not None and record.email:
        return Person(email=record.email, stripe_customer_id=ref_id(customer) or record.stripe_customer_id)
    return em.person(customer or (record.stripe_customer_id if record else None), carried, prefer_store=True)


def dispute_person(em: Emitter, record: RememberedInvoice | None, evidence_email: str | None) -> Person:
    """The disputed invoice's person, else the evidence's email (rarely set yet)."""
    customer = record.stripe_customer_id if record else None
    return em.person(customer, (record.email if record else None) or evidence_email, prefer_store=True)
