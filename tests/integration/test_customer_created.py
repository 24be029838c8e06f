"""The walking skeleton: a signed customer.created reaches all four vendors through the real path."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx

from tests.integration.conftest import Bridge
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.catalog import vendors as known_vendors

CUSTOMER_CREATED = {
    "id": "evt_1QcustomerCreated",
    "object": "event",
    "api_version": "2025-09-30.clover",
    "created": 1761000000,
    "livemode": False,
    "pending_webhooks": 1,
    "request": {"id": "req_1", "idempotency_key": None},
    "type": "customer.created",
    "data": {
        "object": {
            "id": "cus_Q1",
            "object": "customer",
            "email": "  Zoë.Núñez@Example.COM ",
            "name": "Zoë Núñez",
            "created": 1761000000,
            "livemode": False,
            "metadata": {},
        }
    },
}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def vendors():
    with respx.mock(assert_all_called=False) as mock:
        routes = {
            Vendor("convertloop"): mock.post("https://convertloop.test/v1/people").respond(200, json={}),
            Vendor("loops"): mock.put("https://loops.test/api/v1/contacts/update").respond(200, json={"success": True}),
            Vendor("customerio"): mock.put(url__regex=r"https://cio\.test/api/v1/customers/.+").respond(200, json={}),
            Vendor("segmetrics"): mock.post("https://segmetrics.test/api/v1/acct/integ/contact").respond(
                200, json={"status": "success"}
            ),
        }
        yield mock, routes


def test_customer_created_produces_the_four_identify_calls(bridge: Bridge, vendors):
    mock, routes = vendors
    status, body = bridge.post("stripe", CUSTOMER_CREATED)
    assert (status, body["status"], body["messages"]) == (200, "accepted", 4)
    for vendor in known_vendors():
        bridge.drain(vendor)
    assert {vendor: route.call_count for vendor, route in routes.items()} == dict.fromkeys(known_vendors(), 1)
    assert len(mock.calls) == 4

    convertloop = routes[Vendor("convertloop")].calls.last.request
    assert convertloop.headers["authorization"] == basic("app-1", "cl-key")
    sent = json.loads(convertloop.content)
    assert sent["email"] == "zoë.núñez@example.com"
    assert sent["user_id"] == "cus_Q1"
    assert (sent["first_name"], sent["last_name"]) == ("Zoë", "Núñez")

    loops = routes[Vendor("loops")].calls.last.request
    assert loops.headers["authorization"] == "Bearer loops-key"
    sent = json.loads(loops.content)
    assert (sent["email"], sent["stripe_customer_id"], sent["firstName"], sent["lastName"]) == (
        "zoë.núñez@example.com",
        "cus_Q1",
        "Zoë",
        "Núñez",
    )

    customerio = routes[Vendor("customerio")].calls.last.request
    assert customerio.headers["authorization"] == basic("site-1", "cio-key")
    assert customerio.url.raw_path == b"/api/v1/customers/zo%C3%AB.n%C3%BA%C3%B1ez%40example.com"
    assert json.loads(customerio.content)["email"] == "zoë.núñez@example.com"

    segmetrics = routes[Vendor("segmetrics")].calls.last.request
    assert segmetrics.headers["authorization"] == "sm-key"
    sent = json.loads(segmetrics.content)
    assert (sent["email"], sent["contact_id"], sent["first_name"]) == ("zoë.núñez@example.com", "cus_Q1", "Zoë")

    for vendor in known_vendors():
        queue, dlq = bridge.queues[vendor]
        assert bridge.aws.count(queue) == 0 and bridge.aws.count(dlq) == 0


def test_a_bad_signature_is_refused_and_sends_nothing(bridge: Bridge, vendors):
    mock, _ = vendors
    status, body = bridge.post("stripe", CUSTOMER_CREATED, sign=lambda b: {"Stripe-Signature": "t=1,v1=deadbeef"})
    assert status == 401
    for vendor in known_vendors():
        bridge.drain(vendor)
        assert bridge.aws.count(bridge.queues[vendor][0]) == 0
    assert len(mock.calls) == 0


def test_one_vendor_down_does_not_hold_back_the_others(bridge: Bridge, vendors):
    mock, routes = vendors
    routes[Vendor("loops")].mock(return_value=httpx.Response(503))
    bridge.post("stripe", CUSTOMER_CREATED)
    for vendor in known_vendors():
        bridge.drain(vendor)
    assert [routes[v].call_count for v in known_vendors()] == [1, 1, 1, 1]
    loops_queue, loops_dlq = bridge.queues[Vendor("loops")]
    # The Loops message waits in its queue for its retry, not in the DLQ; the others are done.
    assert bridge.aws.count(loops_queue, "ApproximateNumberOfMessagesDelayed") == 1
    assert bridge.aws.count(loops_dlq) == 0
    for vendor in (Vendor("convertloop"), Vendor("customerio"), Vendor("segmetrics")):
        assert bridge.aws.count(bridge.queues[vendor][0]) == 0


def test_a_rejected_payload_lands_in_the_dlq_and_is_redriven_after_the_fix(bridge: Bridge, vendors, capsys):
    from webhook_bridge.ops.cli import main as bridgectl

    mock, routes = vendors
    routes[Vendor("segmetrics")].mock(
        # The vendor's text repeats the request, as vendors' error texts do.
        return_value=httpx.Response(
            400,
            json={"code": "invalid_contact", "errors": ['contact "zoë.núñez"@example.com. is invalid']},
        )
    )
    bridge.post("stripe", CUSTOMER_CREATED)
    bridge.drain(Vendor("segmetrics"))
    queue, dlq = bridge.queues[Vendor("segmetrics")]
    assert bridge.aws.count(dlq) == 1 and bridge.aws.count(queue) == 0

    handler_logs = capsys.readouterr()
    assert "zoë" not in handler_logs.out + handler_logs.err  # the vendor's text is never logged
    assert bridgectl(["--stack", "bridge", "dlq", "show", "segmetrics", "--json"], sqs=bridge.aws.sqs) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    shown = json.loads(line)
    assert shown["class"] == "BadRequestError" and shown["status"] == "400"
    assert shown["reason"] == "BadRequestError (HTTP 400, code invalid_contact)"  # never the vendor's text
    assert "zoë" not in json.dumps(shown, ensure_ascii=False)  # personal data masked

    routes[Vendor("segmetrics")].mock(return_value=httpx.Response(200, json={"status": "success"}))
    assert bridgectl(["--stack", "bridge", "dlq", "redrive", "segmetrics", "--all"], sqs=bridge.aws.sqs) == 0
    assert bridge.aws.count(dlq) == 0
    bridge.drain(Vendor("segmetrics"))
    assert routes[Vendor("segmetrics")].call_count == 2
    assert bridge.aws.count(queue) == 0 and bridge.aws.count(dlq) == 0
