"""Fixtures for the vendor client tests: every HTTP call is answered by respx, none leaves."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from webhook_bridge.actions import Action, ActionKind, Person
from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.convertloop.client import ConvertLoopClient
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.registry import adapter
from webhook_bridge.vendors.results import DeliveryResult
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

API_KEY = "sk_live_TOPSECRETKEY0123456789"
APP_ID = "app_4242"
SITE_ID = "site_4242"
EMAIL = "jane.doe@example.com"
STRIPE_CUSTOMER = "cus_Q1w2E3r4"
OCCURRED_AT = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)

# Each vendor's client with the test credentials, at its documented API root.
CLIENTS: dict[str, Callable[[], BaseClient]] = {
    "convertloop": lambda: ConvertLoopClient(APP_ID, API_KEY),
    "loops": lambda: LoopsClient(API_KEY),
    "customerio": lambda: CustomerIoClient(SITE_ID, API_KEY),
    "segmetrics": lambda: SegMetricsClient("acct1", "integ1", API_KEY),
}


def deliver_to(vendor: str, action: Action, **options: Any) -> DeliveryResult:
    """``vendor``'s adapter delivering ``action`` through a new client from :data:`CLIENTS`."""
    return adapter(Vendor(vendor)).deliver(action, CLIENTS[vendor](), **options)


@pytest.fixture
def http_mock() -> Iterator[respx.MockRouter]:
    """A router with no routes: tests add the answers; an unanswered request fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def answer(router: respx.MockRouter, status: int = 200, **response: Any) -> respx.Route:
    """Answer every request with one response (the test then inspects what was sent)."""
    return router.route().mock(return_value=httpx.Response(status, **response))


def only_request(router: respx.MockRouter, method: str | None = None, url: str | None = None) -> httpx.Request:
    """The one request sent; with ``method`` and ``url``, it must be that one."""
    assert router.calls.call_count == 1, f"expected one request, got {router.calls.call_count}"
    request = router.calls.last.request
    if method is not None:
        assert (request.method, str(request.url)) == (method, url)
    return request


def sent_once(
    router: respx.MockRouter, method: str, url: str, body: object = None, *, authorization: str
) -> httpx.Request:
    """The one request sent, asserted whole: method, URL, credentials and JSON body (none when ``body`` is None)."""
    request = only_request(router, method, url)
    assert request.headers["authorization"] == authorization
    if body is None:
        assert request.content == b""
    else:
        assert json_body(request) == body
    return request


def json_body(request: httpx.Request) -> Any:
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.content)


def make_action(
    *,
    email: str | None = EMAIL,
    stripe_customer_id: str | None = STRIPE_CUSTOMER,
    identify: bool = False,
    kind: ActionKind = ActionKind.TRACK,
    **fields: Any,
) -> Action:
    person_fields = fields.pop("person", {})
    person = Person(email=email, stripe_customer_id=stripe_customer_id, **person_fields)
    return Action(
        id=fields.pop("id", "stripe:evt_123:0"),
        kind=kind,
        source=fields.pop("source", "stripe"),
        source_event_id="evt_123",
        source_event_type=fields.pop("source_event_type", "invoice.paid"),
        occurred_at=fields.pop("occurred_at", OCCURRED_AT),
        person=person,
        identify=identify,
        **fields,
    )
