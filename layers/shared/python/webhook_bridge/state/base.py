"""What the mappings remember between webhooks, as protocols with one meaning for both twins.

Stripe objects that carry no email (subscriptions, some charges) are resolved through
the Stripe customer id, and refunds find the invoice they undo (or wait for it, held). The DynamoDB stores
(``dynamodb.py``) and the in-memory twins (``memory.py``) implement the same protocols.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from webhook_bridge.actions import Invoice, TrackEvent

# How long a memory lives without being refreshed. Identity is refreshed by every event
# that carries both id and email (at least every renewal); refunds come within months.
IDENTITY_TTL_SECONDS = 2 * 365 * 24 * 3600
INVOICE_TTL_SECONDS = 400 * 24 * 3600


class RememberedInvoice(BaseModel):
    """A paid invoice as delivered, plus who it was delivered for (refunds reuse both)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invoice: Invoice
    email: str | None = None
    stripe_customer_id: str | None = None


class HeldEvent(BaseModel):
    """A refund or dispute that arrived before its invoice was known, held for the webhook
    that makes it known (docs/mapping.md, "Refunds"): what that webhook needs to send it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    event_type: str
    created: int


class HeldRefund(HeldEvent):
    """The charge's refund progress, to refund the invoice record once it is known."""

    refunded: bool
    amount_refunded: int
    stripe_customer_id: str | None = None
    version: str  # the invoice record's ordering version (providers/stripe/ordering.py)


class HeldDispute(HeldEvent):
    """The dispute's track event, to send for the invoice's person once it is known."""

    event: TrackEvent


class Held(BaseModel):
    """What waits on a payment intent or an invoice: its newest refund, its disputes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    refund: HeldRefund | None = None
    disputes: tuple[HeldDispute, ...] = ()

    def __bool__(self) -> bool:
        return self.refund is not None or bool(self.disputes)

    def merge(self, other: Held) -> Held:
        refunds = [held for held in (self.refund, other.refund) if held is not None]
        disputes = {held.event_id: held for held in (*self.disputes, *other.disputes)}
        return Held(
            refund=max(refunds, key=lambda held: held.version, default=None),
            disputes=tuple(sorted(disputes.values(), key=lambda held: held.event_id)),
        )


class IdentityStore(Protocol):
    def remember(self, customer_id: str, email: str, version: str) -> None:
        """Record ``customer_id → email`` unless a fact of a higher ``version`` is already known.

        Versions are strings in the order of the events that taught them (created, then
        event id, see ``providers/stripe/ordering.py``): a late old event never wins, and
        two events of the same second resolve the same way whichever lands first."""

    def lookup(self, customer_id: str) -> str | None:
        """The newest known email of the customer, or ``None``."""

    def forget(self, customer_id: str, version: str) -> None:
        """Drop the customer's email (erasure), keeping only ``version``: an event older
        than it can no longer teach the email again. Erasure versions are terminal."""

    def forgotten(self, customer_id: str) -> bool:
        """The customer's email was dropped by ``forget``: there is none to look for."""


class InvoiceMemory(Protocol):
    def remember(self, record: RememberedInvoice, payment_intent_id: str | None = None) -> None:
        """Keep the invoice by its id, and reachable from its payment intent when known."""

    def link_payment(self, payment_intent_id: str, invoice_id: str) -> None:
        """Make the invoice reachable from a payment intent learnt later (API ≥ 2025-03-31.basil)."""

    def by_invoice_id(self, invoice_id: str) -> RememberedInvoice | None: ...

    def by_payment_intent(self, payment_intent_id: str) -> RememberedInvoice | None: ...

    def linked_invoice(self, payment_intent_id: str) -> str | None:
        """The invoice id a payment intent was linked to, whether or not the invoice is known."""

    def hold(self, held: HeldRefund | HeldDispute, payment_intent_id: str | None, invoice_id: str | None) -> None:
        """Keep a refund or dispute under each key given, until its invoice is known. A refund
        replaces the one held only when its ``version`` is not lower; disputes are kept by event id."""

    def held(self, payment_intent_id: str | None, invoice_id: str | None) -> Held:
        """What is held under either key (strongly consistent reads), merged."""
