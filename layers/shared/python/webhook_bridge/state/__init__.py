"""State the provider mappings keep between webhooks: Stripe identity, paid invoices, and the
refunds and disputes held until their invoice is known.

``identity_store(table)`` and ``invoice_memory(table)`` give the process-wide DynamoDB
stores (created lazily, one per table); tests use the in-memory twins.
"""

from __future__ import annotations

from functools import cache

from webhook_bridge.state.base import (
    Held,
    HeldDispute,
    HeldEvent,
    HeldRefund,
    IdentityStore,
    InvoiceMemory,
    RememberedInvoice,
)
from webhook_bridge.state.dynamodb import DynamoIdentityStore, DynamoInvoiceMemory, dynamodb_client
from webhook_bridge.state.memory import InMemoryIdentityStore, InMemoryInvoiceMemory

__all__ = [
    "DynamoIdentityStore",
    "DynamoInvoiceMemory",
    "Held",
    "HeldDispute",
    "HeldEvent",
    "HeldRefund",
    "IdentityStore",
    "InMemoryIdentityStore",
    "InMemoryInvoiceMemory",
    "InvoiceMemory",
    "RememberedInvoice",
    "dynamodb_client",
    "identity_store",
    "invoice_memory",
]


@cache
def identity_store(table_name: str) -> DynamoIdentityStore:
    return DynamoIdentityStore(table_name)


@cache
def invoice_memory(table_name: str) -> DynamoInvoiceMemory:
    return DynamoInvoiceMemory(table_name)
