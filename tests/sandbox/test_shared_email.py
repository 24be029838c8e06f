"""Stripe lets two customers share one email (a second account, a checkout as a new customer):
through the bridge's mapping, adapter and client, Loops takes every update, keyed by the email."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devstack.sandbox import SandboxServer
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.catalog import Vendor

FIXTURES = Path(__file__).parents[1] / "fixtures/stripe/2025-09-30.clover"


def customer_event(kind: str, event_id: str, customer_id: str, email: str) -> dict[str, Any]:
    event = json.loads((FIXTURES / f"customer.{kind}.json").read_text())
    event["id"] = event_id
    event["data"]["object"].update(id=customer_id, email=email)
    return event


def test_a_customer_taking_an_email_another_customer_has_still_reaches_loops(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.as_env().items():
        monkeypatch.setenv(name, value)
    loops = Vendor("loops")
    context = MappingContext.in_memory()
    events = [
        customer_event("created", "evt_1", "cus_First1", "ana@example.com"),
        customer_event("created", "evt_2", "cus_Second2", "ana.work@example.com"),
        customer_event("updated", "evt_3", "cus_Second2", "ana@example.com"),  # now the first one's email
    ]
    for event in events:
        (action,) = map_stripe_event(event, context)
        registry.adapter(loops).deliver(action, registry.build_client(loops))

    assert [r["status"] for r in sandbox.requests("loops")] == [200, 200, 200]
    contacts = {contact["email"]: contact for contact in sandbox.state("loops")["contacts"]}
    assert contacts["ana@example.com"]["stripe_customer_id"] == "cus_Second2"
