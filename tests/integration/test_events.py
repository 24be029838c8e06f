"""Every ready event in events/ through the real handlers: exactly the documented vendor calls.

The events are signed with the documented test secrets at a fixed time, so the receiver
runs with the replay tolerance turned off, as `sam local invoke` users run them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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

IDENTIFY = {CL: "POST /people", LOOPS: "PUT /contacts/update", CIO: "PUT /customers/{id}", SM: "POST /contact"}
TRACK = {CL: "POST /event_logs", LOOPS: "POST /events/send", CIO: "POST /customers/{id}/events"}
# Where each vendor's track body names the event.
EVENT_NAME_FIELD = {CL: "name", LOOPS: "eventName", CIO: "name"}


def calls(identify: bool, event: str | None, segmetrics: tuple[str, ...] = ()) -> list[tuple[Vendor, str]]:
    """The vendor calls: vendor by vendor, a contact's attributes before its event."""
    expected = []
    for vendor in (CL, LOOPS, CIO):
        expected += [(vendor, IDENTIFY[vendor])] * identify + [(vendor, TRACK[vendor])] * (event is not None)
    return expected + [(SM, endpoint) for endpoint in segmetrics]


def subscription(event: str) -> tuple[list[tuple[Vendor, str]], str]:
    """A subscription event: identifying, tracked, and SegMetrics' contact then subscription."""
    return calls(True, event, ("POST /contact", "POST /subscription")), event


# The default mapping table (docs/mapping.md) as vendor calls, with the track event's name.
EXPECTED: dict[str, tuple[list[tuple[Vendor, str]], str | None]] = {
    "customer.created": (calls(True, None, ("POST /contact",)), None),
    "customer.updated": (calls(True, None, ("POST /contact",)), None),
    "customer.deleted": ([], None),  # erasure is opt-in (tests/integration/test_erasure.py)
    "checkout.session.completed": (calls(True, "checkout_completed", ("POST /contact",)), "checkout_completed"),
    "invoice.paid": (calls(True, "invoice_paid", ("POST /contact", "POST /invoice")), "invoice_paid"),
    "checkout.session.async_payment_succeeded": (
        calls(True, "checkout_payment_succeeded", ("POST /contact",)),
        "checkout_payment_succeeded",
    ),
    "checkout.session.async_payment_failed": (
        calls(True, "checkout_payment_failed", ("POST /contact",)),
        "checkout_payment_failed",
    ),
    "invoice.payment_failed": (calls(False, "invoice_payment_failed"), "invoice_payment_failed"),
    "invoice.upcoming": (calls(False, "invoice_upcoming"), "invoice_upcoming"),
    "invoice_payment.paid": ([], None),
    "charge.refunded": (calls(False, "charge_refunded", ("POST /invoice",)), "charge_refunded"),
    "charge.dispute.created": (calls(False, "charge_disputed"), "charge_disputed"),
    "customer.subscription.created": subscription("subscription_created"),
    "customer.subscription.updated": subscription("subscription_updated"),
    "customer.subscription.deleted": subscription("subscription_canceled"),
    "customer.subscription.paused": subscription("subscription_paused"),
    "customer.subscription.resumed": subscription("subscription_resumed"),
    "customer.subscription.trial_will_end": (calls(False, "trial_will_end"), "trial_will_end"),
    "form_response": (calls(True, "form_submitted", ("POST /contact",)), "form_submitted"),
    "form_response_partial": ([], None),
}
STRIPE_EMAIL = "zoe.nunez+billing@example.com"
TYPEFORM_EMAIL = "josé@example.com"


def load(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    event = json.loads(path.read_text(encoding="utf-8"))
    return event, json.loads(event["body"])


def normalized(vendor: Vendor, request: httpx.Request) -> str:
    path = request.url.raw_path.decode().split("?")[0][len(httpx.URL(BASES[vendor]).raw_path.decode()) :]
    if vendor is CIO:
        path = re.sub(r"^/customers/[^/]+", "/customers/{id}", path)
    return f"{request.method} {path}"


Call = tuple[Vendor, str, Any, str]


def calls_since(mock: respx.MockRouter, start: int) -> list[Call]:
    """Each vendor request in the order sent: vendor, endpoint, JSON body (None without one), URL."""
    seen = []
    for call in mock.calls[start:]:
        url = str(call.request.url)
        vendor = next(v for v, base in BASES.items() if url.startswith(base))
        body = json.loads(call.request.content) if call.request.content else None
        seen.append((vendor, normalized(vendor, call.request), body, unquote(url)))
    return seen


def assert_documented(sent: list[Call], name: str, email: str) -> None:
    """Exactly the documented calls, once each, a contact's attributes before its event; every call
    about the person (in its URL or body), every track body naming the documented event.

    Across vendors, and between an event's actions at one vendor (``invoice.paid``'s identify and
    its invoice record, two SegMetrics messages), the queues set no order."""
    endpoints, event_name = EXPECTED[name]
    made = [(vendor, endpoint) for vendor, endpoint, *_ in sent]
    assert sorted(made) == sorted(endpoints), name
    for vendor, track in TRACK.items():
        if (vendor, track) in made and (vendor, IDENTIFY[vendor]) in made:
            assert made.index((vendor, IDENTIFY[vendor])) < made.index((vendor, track)), (name, vendor)
    for vendor, endpoint, body, url in sent:
        assert email in url + json.dumps(body, ensure_ascii=False), (name, vendor, endpoint)
        if endpoint == TRACK.get(vendor):
            assert body[EVENT_NAME_FIELD[vendor]] == event_name, (name, vendor)


def run_in_order(bridge: Bridge, mock: respx.MockRouter, paths: list[Path], provider: str) -> dict[str, list[Call]]:
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
    for name, sent in produced.items():
        assert_documented(sent, name, STRIPE_EMAIL)
    for vendor in known_vendors():
        queue, dlq = bridge.queues[vendor]
        assert (bridge.aws.count(queue), bridge.aws.count(dlq)) == (0, 0), vendor


def test_every_typeform_event_produces_the_documented_calls(bridge: Bridge, vendors, monkeypatch):
    monkeypatch.setenv("TYPEFORM_WEBHOOK_SECRET", "typeform_test_webhook_bridge")
    monkeypatch.setenv("BRIDGE_MAPPING", '{"typeform": {"default": {"hidden_email": true}}}')
    forget_cold_start()
    produced = run_in_order(bridge, vendors, sorted((EVENTS / "typeform").glob("*.json")), "typeform")
    assert_documented(produced["form_response"], "form_response", TYPEFORM_EMAIL)
    assert_documented(produced["form_response_hidden_email"], "form_response", TYPEFORM_EMAIL)
    assert_documented(produced["form_response_partial"], "form_response_partial", TYPEFORM_EMAIL)
