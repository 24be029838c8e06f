"""What the mappings remember between webhooks, as protocols with one meaning for both twins.

Stripe objects that carry no email (subscriptions, some charges) are resolved through
the Stripe customer id, and refunds find the invoice they undo. The DynamoDB stores
(``dynamodb.py``) and the in-memory twins (``memory.py``) implement the same protocols.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from webhook_bridge.actions import Invoice

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
