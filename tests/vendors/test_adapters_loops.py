"""What Loops receives for each kind of action."""

from __future__ import annotations

import httpx
import pytest

from webhook_bridge.actions import VendorMessage
from webhook_bridge.vendors.catalog import Vendor
from webhook_bridge.vendors.exceptions import InternalServerError, RateLimitError, RequestValidationError
from webhook_bridge.vendors.loops import adapter as loops_adapter

from . import fixtures_actions as actions
from .conftest import CLIENTS, EMAIL, STRIPE_CUSTOMER, answer, json_body, make_action, only_request

BASE = "https://app.loops.so/api/v1"


client = pytest.fixture(CLIENTS["loops"], name="client")


def test_track_sends_the_event_with_the_idempotency_key(http_mock, client):
    answer(http_mock, 200, json={"success": True})
    result = loops_adapter.deliver(actions.track_action(), client, idempotency_key="msg-key-1")
    request = only_request(http_mock, "POST", f"{BASE}/events/send")
    assert request.headers["idempotency-key"] == "msg-key-1"
    assert json_body(request) == {"email": EMAIL, "eventName": "invoice_paid"}
    assert result.calls == ["POST /events/send"] and not result.duplicate


def sent(http_mock):
    return [
        (c.request.method, str(c.request.url), c.request.headers.get("idempotency-key"), json_body(c.request))
        for c in http_mock.calls
    ]


@pytest.mark.parametrize(
    ("action", "contact", "event_name"),
    [
        (
            actions.identify_and_track_action(),
            {"email": EMAIL, "stripe_customer_id": STRIPE_CUSTOMER, "firstName": "Jane", "plan": "pro"},
            "checkout_completed",
        ),
        (
            actions.invoice_action(),
            {"email": EMAIL, "stripe_customer_id": STRIPE_CUSTOMER, "firstName": "Jane", "lastName": "Doe"},
            "invoice_paid",
        ),
        (
            actions.subscription_action(),
            {"email": EMAIL, "stripe_customer_id": STRIPE_CUSTOMER, "subscription_status": "active", "plan": "pro"},
            "subscription_updated",
        ),
    ],
    ids=["identify-and-track", "invoice", "subscription"],
)
def test_an_identifying_action_updates_the_contact_then_sends_the_event(http_mock, client, action, contact, event_name):
    answer(http_mock, 200, json={"success": True})

    result = loops_adapter.deliver(action, client, idempotency_key="k")

    assert sent(http_mock) == [
        ("PUT", f"{BASE}/contacts/update", None, contact),
        # identifiers + event only: the contact properties are not repeated
        ("POST", f"{BASE}/events/send", "k", {"email": EMAIL, "eventName": event_name}),
    ]
    assert result.calls == ["PUT /contacts/update", "POST /events/send"] and not result.duplicate


def test_refund_is_one_event(http_mock, client):
    answer(http_mock, 200)
    result = loops_adapter.deliver(actions.refund_action(), client, idempotency_key="k")
    assert [(m, u, key) for m, u, key, _ in sent(http_mock)] == [("POST", f"{BASE}/events/send", "k")]
    assert result.calls == ["POST /events/send"]


def test_a_retry_repeats_the_upsert_and_the_event_with_the_same_key(http_mock, client):
    http_mock.put(f"{BASE}/contacts/update").respond(200)
    events = http_mock.post(f"{BASE}/events/send")
    events.side_effect = [httpx.Response(503), httpx.Response(409, json={"success": False})]
    with pytest.raises(InternalServerError):
        loops_adapter.deliver(actions.invoice_action(), client, idempotency_key="k")

    result = loops_adapter.deliver(actions.invoice_action(), client, idempotency_key="k")

    calls = sent(http_mock)
    assert [(m, u, key) for m, u, key, _ in calls] == [
        ("PUT", f"{BASE}/contacts/update", None),
        ("POST", f"{BASE}/events/send", "k"),
    ] * 2
    assert calls[:2] == calls[2:]
    assert result.duplicate  # the first attempt's event got through after all
    assert result.calls == ["PUT /contacts/update", "POST /events/send"]


def test_a_throttled_contact_update_stops_before_the_event(http_mock, client):
    answer(http_mock, 429, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError):
        loops_adapter.deliver(actions.invoice_action(), client, idempotency_key="k")
    assert [str(c.request.url) for c in http_mock.calls] == [f"{BASE}/contacts/update"]


def test_identify_updates_the_contact(http_mock, client):
    answer(http_mock, 200)
    result = loops_adapter.deliver(actions.identify_action(), client, idempotency_key="k")
    request = only_request(http_mock, "PUT", f"{BASE}/contacts/update")
    assert "idempotency-key" not in request.headers
    assert json_body(request) == {
        "email": EMAIL,
        "stripe_customer_id": STRIPE_CUSTOMER,
        "firstName": "Jane",
        "lastName": "Doe",
        "plan": "pro",
        "answers": "red, blue",
        "signup_at": "2024-04-01T08:00:00Z",
        "survey": '{"score":9}',
        # nickname (None) left out; neither segments nor tags are sent to Loops
    }
    assert result.calls == ["PUT /contacts/update"]


@pytest.mark.parametrize(
    "action",
    [actions.identify_action(email=None), actions.track_action(email=None), actions.subscription_action(email=None)],
)
def test_without_email_nothing_is_sent(http_mock, client, action):
    # Loops needs the email on every contact write and event.
    with pytest.raises(RequestValidationError, match="email"):
        loops_adapter.deliver(action, client, idempotency_key="k")
    assert http_mock.calls.call_count == 0


def test_a_409_on_resend_is_a_duplicate_not_an_error(http_mock, client):
    answer(http_mock, 409, json={"success": False, "message": "Duplicate idempotency key"})
    result = loops_adapter.deliver(actions.track_action(), client, idempotency_key="k")
    assert result.duplicate


def test_rate_limit_propagates_for_the_delivery_layer(http_mock, client):
    answer(http_mock, 429, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError):
        loops_adapter.deliver(actions.track_action(), client, idempotency_key="k")


def test_default_idempotency_key_is_the_message_token(http_mock, client):
    answer(http_mock, 200)
    action = actions.track_action()
    loops_adapter.deliver(action, client)
    expected = VendorMessage(vendor=Vendor("loops"), action=action).idempotency_token
    assert only_request(http_mock).headers["idempotency-key"] == expected


def test_traits_cannot_override_reserved_keys(http_mock, client):
    answer(http_mock, 200)
    action = make_action(identify=True, person={"traits": {"email": "x@example.com", "eventName": "x", "tier": 2}})
    loops_adapter.deliver(action, client, idempotency_key="k")
    assert json_body(only_request(http_mock)) == {"email": EMAIL, "stripe_customer_id": STRIPE_CUSTOMER, "tier": 2}
