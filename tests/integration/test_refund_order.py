"""A paid invoice, refunded in part and then in full: whatever order the events arrive and
are delivered in, SegMetrics' invoice record ends refunded (docs/mapping.md, "Refunds")."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest
import respx

from tests.integration.conftest import Bridge
from webhook_bridge.vendors.catalog import Vendor

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "2025-09-30.clover"
INVOICE = "in_1SEoygPrVj2yVUuGytpeizes"


def event(name: str, event_id: str, created: int, **changes: Any) -> dict[str, Any]:
    payload = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    payload["id"], payload["created"] = event_id, created
    payload["data"]["object"].update(changes)
    return payload


PAID = [
    event("customer.created", "evt_customer", 1_760_000_000),
    event("invoice.paid", "evt_paid", 1_760_000_100),
    event("invoice_payment.paid", "evt_payment", 1_760_000_100),
]
PARTIAL = event("charge.refunded", "evt_partial", 1_760_000_200, amount_refunded=1000, refunded=False)
FULL = event("charge.refunded", "evt_full", 1_760_000_300, amount_refunded=2000, refunded=True)


def last_invoice(vendors: respx.MockRouter) -> dict[str, Any]:
    posted = [
        json.loads(call.request.content)
        for call in vendors.routes["segmetrics"].calls
        if call.request.url.path.endswith("/invoice")
    ]
    return posted[-1]


@pytest.mark.parametrize("refunds", list(permutations([PARTIAL, FULL])), ids=["in_order", "full_first"])
def test_the_invoice_ends_refunded_whichever_refund_arrives_last(
    bridge: Bridge, vendors: respx.MockRouter, refunds: tuple[dict[str, Any], ...]
) -> None:
    for payload in PAID:
        assert bridge.post("stripe", payload)[0] == 200
    bridge.drain(Vendor("segmetrics"))
    for payload in refunds:  # each delivered before the next arrives
        assert bridge.post("stripe", payload)[0] == 200
        bridge.drain(Vendor("segmetrics"))

    invoice = last_invoice(vendors)
    assert (invoice["id"], invoice["is_refunded"]) == (INVOICE, 1)


def deliver_refund_first(bridge: Bridge, vendor: Vendor) -> None:
    """``vendor``'s queue handed to its function one message at a time, the refund's first."""
    queue, _ = bridge.queues[vendor]
    messages = bridge.aws.receive_all(queue)
    refund_first = sorted(messages, key=lambda m: json.loads(m["Body"])["action"]["source_event_id"] != "evt_full")
    assert json.loads(refund_first[0]["Body"])["action"]["source_event_id"] == "evt_full"
    for message in refund_first:
        bridge.aws.sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
        bridge.aws.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        bridge.drain(vendor, max_rounds=1)


def test_a_refund_delivered_before_its_invoice_is_not_undone_by_it(bridge: Bridge, vendors: respx.MockRouter) -> None:
    """The refund's action is mapped once the invoice is known, but SegMetrics' queue hands
    the refund to the function first: the paid invoice delivered after it must not undo it."""
    for payload in [*PAID, FULL]:
        assert bridge.post("stripe", payload)[0] == 200
    deliver_refund_first(bridge, Vendor("segmetrics"))

    invoice = last_invoice(vendors)
    assert (invoice["id"], invoice["is_refunded"]) == (INVOICE, 1)


def test_the_invoice_order_decides_nothing_but_the_invoice_record(bridge: Bridge, vendors: respx.MockRouter) -> None:
    """A guest's invoice names them; its refund delivered first must not take the identify of the
    paid invoice with it, at a vendor that keeps invoice records or at one that does not."""
    guest = event("invoice.paid", "evt_paid", 1_760_000_100, customer=None, customer_name="Zoë Núñez")
    for payload in [guest, PAID[2], FULL]:
        assert bridge.post("stripe", payload)[0] == 200
    for vendor in (Vendor("loops"), Vendor("segmetrics")):
        deliver_refund_first(bridge, vendor)

    updates = [json.loads(c.request.content) for c in vendors.routes["loops"].calls if c.request.method == "PUT"]
    assert [(u["firstName"], u["lastName"]) for u in updates] == [("Zoë", "Núñez")]
    contacts = [
        json.loads(c.request.content)
        for c in vendors.routes["segmetrics"].calls
        if c.request.url.path.endswith("/contact")
    ]
    assert [(c["first_name"], c["last_name"]) for c in contacts] == [("Zoë", "Núñez")]
    assert last_invoice(vendors)["is_refunded"] == 1
