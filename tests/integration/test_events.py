"""Every ready event in events/ through the real handlers: exactly the documented vendor calls.

The events are signed with the documented test secrets at a fixed time, so the receiver
runs with the replay tolerance turned off, as `sam local invoke` users run them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from devstack.support.handlers import forget_cold_start
from devstack.support.lambda_context import LambdaContext
from tests.integration.conftest import BASES, ROOT, Bridge
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors

EVENTS = ROOT / "events"
CL, LOOPS, CIO, SM = Vendor("convertloop"), Vendor("loops"), Vendor("customerio"), Vendor("segmetrics")

IDENTIFY = {(CL, "POST /people"), (LOOPS, "PUT /contacts/update"), (CIO, "PUT /customers/{id}"), (SM, "POST /contact")}
TRACK = {(CL, "POST /event_logs"), (LOOPS, "POST /events/send"), (CIO, "POST /customers/{id}/events")}
IDENTIFY_AND_TRACK = TRACK | (IDENTIFY - {(SM, "POST /contact")})

# The default mapping table of docs/mapping.md, as vendor calls.
EXPECTED: dict[str, set[tuple[Vendor, str]]] = {
    "customer.created": IDENTIFY,
    "customer.updated": IDENTIFY,
    "customer.deleted": set(),  # erasure is opt-in (tests/integration/test_erasure.py)
    "checkout.session.completed": IDENTIFY_AND_TRACK | {(SM, "POST /contact")},
    "checkout.session.async_payment_succeeded": IDENTIFY_AND_TRACK | {(SM, "POST /contact")},
    "checkout.session.async_payment_failed": IDENTIFY_AND_TRACK | {(SM, "POST /contact")},
    "invoice.paid": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /invoice")},
    "invoice.payment_failed": TRACK,
    "invoice.upcoming": TRACK,
    "invoice_payment.paid": set(),
    "charge.refunded": TRACK | {(SM, "POST /invoice")},
    "charge.dispute.created": TRACK,
    "customer.subscription.created": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /subscription")},
    "customer.subscription.updated": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /subscription")},
    "customer.subscription.deleted": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /subscription")},
    "customer.subscription.paused": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /subscription")},
    "customer.subscription.resumed": IDENTIFY_AND_TRACK | {(SM, "POST /contact"), (SM, "POST /subscription")},
    "customer.subscription.trial_will_end": TRACK,
    "form_response": IDENTIFY_AND_TRACK | {(SM, "POST /contact")},
    "form_response_partial": set(),
}


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    event = json.loads(path.read_text(encoding="utf-8"))
    return event, json.loads(event["body"])


def normalized(vendor: Vendor, request: httpx.Request) -> str:
    path = request.url.raw_path.decode().split("?")[0][len(httpx.URL(BASES[vendor]).raw_path.decode()) :]
    if vendor is CIO:
        path = re.sub(r"^/customers/[^/]+", "/customers/{id}", path)
    return f"{request.method} {path}"


def calls_since(mock: respx.MockRouter, start: int) -> set[tuple[Vendor, str]]:
    seen = set()
    for call in mock.calls[start:]:
        vendor = next(v for v, base in BASES.items() if str(call.request.url).startswith(base))
        seen.add((vendor, normalized(vendor, call.request)))
    return seen


def run_in_order(bridge: Bridge, mock: respx.MockRouter, paths: list[Path], provider: str) -> dict[str, set]:
    handler = bridge.stripe if provider == "stripe" else bridge.typeform
    produced = {}
    for path in paths:
        event, payload = load(path)
        response = handler.lambda_handler(event, LambdaContext())
        assert response["statusCode"] == 200, (path.name, response["body"])
        start = len(mock.calls)
        for vendor in known_vendors():
            bridge.drain(vendor)
        produced[path.stem] = calls_since(mock, start)
    return produced


@pytest.mark.parametrize("version", sorted(p.name for p in (EVENTS / "stripe").iterdir()))
def test_every_stripe_event_produces_the_documented_calls(bridge: Bridge, vendors, monkeypatch, version):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_test_webhook_bridge")
    monkeypatch.setenv("STRIPE_SIGNATURE_TOLERANCE_SECONDS", "0")
    forget_cold_start()
    # In the order Stripe created them, so the customer's email is known when a subscription arrives.
    paths = sorted((EVENTS / "stripe" / version).glob("*.json"), key=lambda p: load(p)[1]["created"])
    produced = run_in_order(bridge, vendors, paths, "stripe")
    for name, calls in produced.items():
        assert calls == EXPECTED[name], name
    for vendor in known_vendors():
        queue, dlq = bridge.queues[vendor]
        assert (bridge.aws.count(queue), bridge.aws.count(dlq)) == (0, 0), vendor


def test_every_typeform_event_produces_the_documented_calls(bridge: Bridge, vendors, monkeypatch):
    monkeypatch.setenv("TYPEFORM_WEBHOOK_SECRET", "typeform_test_webhook_bridge")
    monkeypatch.setenv("BRIDGE_MAPPING", '{"typeform": {"default": {"hidden_email": true}}}')
    forget_cold_start()
    produced = run_in_order(bridge, vendors, sorted((EVENTS / "typeform").glob("*.json")), "typeform")
    assert produced["form_response"] == EXPECTED["form_response"]
    assert produced["form_response_hidden_email"] == EXPECTED["form_response"]
    assert produced["form_response_partial"] == EXPECTED["form_response_partial"]
