"""A refund or a dispute that Stripe sends before the invoice it belongs to is known: every
vendor still ends with the truth (docs/mapping.md, "Refunds"). Each webhook is delivered to
every vendor before the next arrives, and what the vendors hold is read from the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.sandbox import ManualClock, SandboxServer
from tests.conftest import STATE_TABLE
from tests.integration.conftest import Bridge
from tests.providers.conftest import CURRENT, EMAIL, INVOICE_LINK_IDS, INVOICE_LINKS, STORIES, stripe_event
from webhook_bridge.mapping_config import MappingConfig, MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.state import DynamoIdentityStore, DynamoInvoiceMemory, RememberedInvoice
from webhook_bridge.vendors.catalog import vendors

TRACKERS = ("convertloop", "loops", "customerio")


@pytest.fixture
def sandbox(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """The bridge's vendor clients pointed at the vendor sandbox."""
    with SandboxServer(port=0, clock=ManualClock()) as server:
        for name, value in server.as_env().items():
            monkeypatch.setenv(name, value)
        yield server


def deliver(bridge: Bridge, *payloads: dict[str, Any]) -> None:
    """Each webhook received and delivered to every vendor before the next one arrives; no
    vendor refused anything (no action routed to a vendor with nothing to send it)."""
    for payload in payloads:
        assert bridge.post("stripe", payload)[0] == 200
        for vendor in vendors():
            bridge.drain(vendor)
            assert bridge.aws.receive_all(bridge.queues[vendor][1]) == [], vendor


def tracked(sandbox: SandboxServer, name: str) -> dict[str, list[str | None]]:
    """Per vendor that keeps events, the email of each event of ``name`` it holds."""
    return {
        "convertloop": [
            (e["person"] or {}).get("email") for e in sandbox.state("convertloop")["event_logs"] if e["name"] == name
        ],
        "loops": [e["email"] for e in sandbox.state("loops")["events"] if e["eventName"] == name],
        "customerio": [e["customer_id"] for e in sandbox.state("customerio")["events"] if e["name"] == name],
    }


def invoice_refunded(sandbox: SandboxServer, version: str) -> bool:
    """Whether SegMetrics holds the (one) record of the invoice as refunded."""
    invoices = sandbox.state("segmetrics")["invoices"]
    [held] = [invoice for invoice in invoices if invoice["id"] == STORIES[version].invoice]
    return bool(held["is_refunded"])


def refunded_copies_sent(sandbox: SandboxServer) -> int:
    return sum(
        1
        for r in sandbox.requests("segmetrics")
        if r["path"].endswith("/invoice") and 200 <= r["status"] < 300 and (r["body"] or {}).get("is_refunded")
    )


@pytest.mark.parametrize(("version", "links"), INVOICE_LINKS, ids=INVOICE_LINK_IDS)
def test_a_refund_before_its_invoice_ends_refunded_at_segmetrics(
    bridge: Bridge, sandbox: SandboxServer, version: str, links: tuple[str, ...]
) -> None:
    deliver(bridge, stripe_event(version, "customer.created"), stripe_event(version, "charge.refunded"))
    deliver(bridge, *(stripe_event(version, link) for link in links))

    assert invoice_refunded(sandbox, version)
    assert tracked(sandbox, "charge_refunded") == {vendor: [EMAIL] for vendor in TRACKERS}


@pytest.mark.parametrize(("version", "links"), INVOICE_LINKS, ids=INVOICE_LINK_IDS)
def test_a_dispute_before_its_invoice_is_tracked_once_it_is_known(
    bridge: Bridge, sandbox: SandboxServer, version: str, links: tuple[str, ...]
) -> None:
    deliver(bridge, stripe_event(version, "customer.created"), stripe_event(version, "charge.dispute.created"))
    assert tracked(sandbox, "charge_disputed") == {vendor: [] for vendor in TRACKERS}  # nobody named yet
    deliver(bridge, *(stripe_event(version, link) for link in links))

    assert tracked(sandbox, "charge_disputed") == {vendor: [EMAIL] for vendor in TRACKERS}


class PausedBeforeItsReads(DynamoInvoiceMemory):
    """The refund's or dispute's mapper after its hold was written, before it read the link:
    it has seen nothing yet."""

    def linked_invoice(self, payment_intent_id: str) -> str | None:
        return None

    def by_invoice_id(self, invoice_id: str) -> RememberedInvoice | None:
        return None


def test_when_both_sides_see_each_other_each_vendor_still_gets_it_once(bridge: Bridge, sandbox: SandboxServer) -> None:
    """Holds written, then the link written and its mapper run, then the refund's and the
    dispute's mappers read: both sides send, each vendor gets each action once."""
    refund, dispute = stripe_event(CURRENT, "charge.refunded"), stripe_event(CURRENT, "charge.dispute.created")
    paused = MappingContext(
        MappingConfig(),
        DynamoIdentityStore(STATE_TABLE, bridge.aws.dynamodb),
        PausedBeforeItsReads(STATE_TABLE, bridge.aws.dynamodb),
    )
    for payload in (refund, dispute):
        map_stripe_event(payload, paused)  # its holds written, its actions not yet sent

    deliver(bridge, stripe_event(CURRENT, "customer.created"), stripe_event(CURRENT, "invoice.paid"))
    deliver(bridge, stripe_event(CURRENT, "invoice_payment.paid"))  # sees the holds: sends both
    assert invoice_refunded(sandbox, CURRENT)
    assert tracked(sandbox, "charge_disputed") == {vendor: [EMAIL] for vendor in TRACKERS}
    deliver(bridge, refund, dispute)  # the same mappers, now reading the link: send them too

    assert invoice_refunded(sandbox, CURRENT)
    assert refunded_copies_sent(sandbox) == 1  # each webhook delivered alone: no resync
    assert tracked(sandbox, "charge_disputed") == {vendor: [EMAIL] for vendor in TRACKERS}
    assert tracked(sandbox, "charge_refunded") == {vendor: [EMAIL] for vendor in TRACKERS}
