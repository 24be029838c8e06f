"""In-memory twins of the DynamoDB stores, with the same semantics, for tests and tools."""

from __future__ import annotations

from webhook_bridge.state.base import Held, HeldDispute, HeldRefund, RememberedInvoice


class InMemoryIdentityStore:
    def __init__(self) -> None:
        self.emails: dict[str, tuple[str | None, str]] = {}

    def remember(self, customer_id: str, email: str, version: str) -> None:
        self._set(customer_id, email, version)

    def forget(self, customer_id: str, version: str) -> None:
        self._set(customer_id, None, version)

    def forgotten(self, customer_id: str) -> bool:
        known = self.emails.get(customer_id)
        return known is not None and known[0] is None

    def _set(self, customer_id: str, email: str | None, version: str) -> None:
        known = self.emails.get(customer_id)
        if known is None or known[1] <= version:  # same rule as the DynamoDB condition
            self.emails[customer_id] = (email, version)

    def lookup(self, customer_id: str) -> str | None:
        known = self.emails.get(customer_id)
        return known[0] if known else None


class InMemoryInvoiceMemory:
    def __init__(self) -> None:
        self.invoices: dict[str, RememberedInvoice] = {}
        self.payments: dict[str, str] = {}
        self.holds: dict[tuple[str, str], Held] = {}  # by ("payment" | "invoice", id)

    def remember(self, record: RememberedInvoice, payment_intent_id: str | None = None) -> None:
        self.invoices[record.invoice.id] = record
        if payment_intent_id:
            self.payments[payment_intent_id] = record.invoice.id

    def link_payment(self, payment_intent_id: str, invoice_id: str) -> None:
        self.payments[payment_intent_id] = invoice_id

    def by_invoice_id(self, invoice_id: str) -> RememberedInvoice | None:
        return self.invoices.get(invoice_id)

    def by_payment_intent(self, payment_intent_id: str) -> RememberedInvoice | None:
        invoice_id = self.linked_invoice(payment_intent_id)
        return self.invoices.get(invoice_id) if invoice_id else None

    def linked_invoice(self, payment_intent_id: str) -> str | None:
        return self.payments.get(payment_intent_id)

    def hold(self, held: HeldRefund | HeldDispute, payment_intent_id: str | None, invoice_id: str | None) -> None:
        # Held.merge keeps the refund of the highest version: the DynamoDB condition's rule.
        adding = Held(refund=held) if isinstance(held, HeldRefund) else Held(disputes=(held,))
        for key in _hold_keys(payment_intent_id, invoice_id):
            self.holds[key] = self.holds.get(key, Held()).merge(adding)

    def held(self, payment_intent_id: str | None, invoice_id: str | None) -> Held:
        found = Held()
        for key in _hold_keys(payment_intent_id, invoice_id):
            found = found.merge(self.holds.get(key, Held()))
        return found


def _hold_keys(payment_intent_id: str | None, invoice_id: str | None) -> list[tuple[str, str]]:
    return [(kind, key) for kind, key in (("payment", payment_intent_id), ("invoice", invoice_id)) if key]
