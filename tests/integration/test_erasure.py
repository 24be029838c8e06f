"""Erasure opted in, through the real handlers: customer.deleted becomes one documented
delete per vendor that has one, and nothing Stripe delivers late about the customer
reaches any vendor afterwards, nor ends in a DLQ."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from devstack.support.handlers import forget_cold_start
from devstack.support.lambda_context import LambdaContext
from tests.integration.conftest import Bridge
from tests.integration.test_events import CIO, EVENTS, LOOPS, SM, calls_since
from tests.providers.conftest import CURRENT, STORIES, stripe_event
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors

ERASE = {"stripe": {"events": {"customer.deleted": {"erase": True}}}}
BEFORE = ["customer.created", "customer.updated", "customer.subscription.created", "invoice.paid"]
# Stripe's own late deliveries of things that happened before the deletion, under new event ids.
LATE = ["customer.updated", "customer.subscription.deleted", "invoice.paid", "checkout.session.completed"]


@pytest.fixture
def erasing(bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    monkeypatch.setenv("BRIDGE_MAPPING", json.dumps(ERASE))
    forget_cold_start()
    return bridge


def deliver(bridge: Bridge, vendors, payload: dict[str, Any]) -> list[tuple[Vendor, str]]:
    """The vendor calls the event led to, in the order sent."""
    status, body = bridge.post("stripe", payload)
    assert status == 200, body
    start = len(vendors.calls)
    for vendor in known_vendors():
        bridge.drain(vendor)
    return [(vendor, endpoint) for vendor, endpoint, *_ in calls_since(vendors, start)]


def redelivered(event_type: str) -> dict[str, Any]:
    payload = stripe_event(CURRENT, event_type)
    payload["id"] = f"evt_late_{uuid.uuid4().hex[:16]}"
    return payload


def test_erasure_deletes_everywhere_it_can_and_nothing_late_recreates_the_person(erasing: Bridge, vendors):
    customer = STORIES[CURRENT].customer
    for event_type in BEFORE:
        deliver(erasing, vendors, stripe_event(CURRENT, event_type))

    erased = deliver(erasing, vendors, stripe_event(CURRENT, "customer.deleted"))
    assert erased == [
        (LOOPS, "POST /contacts/delete"),
        (CIO, "DELETE /customers/{id}"),
        (SM, f"DELETE /contact/{customer}"),
    ]

    for event_type in LATE:
        assert deliver(erasing, vendors, redelivered(event_type)) == [], event_type
    # Deleted twice (a new event id for the same deletion): erased again, harmlessly.
    again = deliver(erasing, vendors, redelivered("customer.deleted"))
    assert {vendor for vendor, _ in again} <= {LOOPS, CIO, SM}
    for vendor in known_vendors():
        queue, dlq = erasing.queues[vendor]
        assert (erasing.aws.count(queue), erasing.aws.count(dlq)) == (0, 0), vendor


def test_the_sample_event_erases_when_opted_in(erasing: Bridge, vendors, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test_webhook_bridge")  # the samples' test secret
    monkeypatch.setenv("STRIPE_SIGNATURE_TOLERANCE_SECONDS", "0")
    forget_cold_start()
    sample = json.loads((EVENTS / "stripe" / CURRENT / "customer.deleted.json").read_text())
    response = erasing.stripe.lambda_handler(sample, LambdaContext())
    assert (response["statusCode"], json.loads(response["body"])["messages"]) == (200, 3)
