"""Fixtures for the vendor client tests: every HTTP call is answered by respx, none leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from webhook_bridge.actions import Action, ActionKind, Person

API_KEY = "sk_live_TOPSECRETKEY0123456789"
APP_ID = "app_4242"
SITE_ID = "site_4242"
EMAIL = "jane.doe@example.com"
STRIPE_CUSTOMER = "cus_Q1w2E3r4"
OCCURRED_AT = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def http_mock() -> Iterator[respx.MockRouter]:
    """A router with no routes: tests add the answers; an unanswered request fails the test."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def answer(router: respx.MockRouter, status: int = 200, **response: Any) -> respx.Route:
    """Answer every request with one response (the test then inspects what was sent)."""
    return router.route().mock(return_value=httpx.Response(status, **response))


def only_request(router: respx.MockRouter) -> httpx.Request:
    assert router.calls.call_count == 1, f"expected one request, got {router.calls.call_count}"
    return router.calls.last.request


def sent_once(
    router: respx.MockRouter, method: str, url: str, body: object = None, *, authorization: str
) -> httpx.Request:
    """The one request sent, asserted whole: method, URL, credentials and JSON body (none when ``body`` is None)."""
    request = only_request(router)
    assert (request.method, str(request.url)) == (method, url)
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
