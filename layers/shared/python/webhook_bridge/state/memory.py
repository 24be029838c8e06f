"""In-memory twins of the DynamoDB stores, with the same semantics, for tests and tools."""

from __future__ import annotations

from webhook_bridge.state.base import RememberedInvoice


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

    def remember(self, record: RememberedInvoice, payment_intent_id: str | None = None) -> None:
        self.invoices[record.invoice.id] = record
        if payment_intent_id:
            self.payments[payment_intent_id] = record.invoice.id

    def link_payment(self, payment_intent_id: str, invoice_id: str) -> None:
        self.payments[payment_intent_id] = invoice_id

    def by_invoice_id(self, invoice_id: str) -> RememberedInvoice | None:
        return self.invoices.get(invoice_id)

    def by_payment_intent(self, payment_intent_id: str) -> RememberedInvoice | None:
        invoice_id = self.payments.get(payment_intent_id)
        return self.invoices.get(invoice_id) if invoice_id else None
