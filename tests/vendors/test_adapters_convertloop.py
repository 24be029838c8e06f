"""What ConvertLoop receives for each kind of action."""

from __future__ import annotations

import pytest

from webhook_bridge.vendors import convertloop_adapter
from webhook_bridge.vendors.convertloop import ConvertLoopClient
from webhook_bridge.vendors.errors import RequestValidationError

from .conftest import API_KEY, APP_ID, EMAIL, STRIPE_CUSTOMER, answer, json_body, make_action, only_request
from .fixtures_actions import identify_action, identify_and_track_action, invoice_action, track_action

BASE = "https://api.convertloop.co/v1"


@pytest.fixture
def client() -> ConvertLoopClient:
    return ConvertLoopClient(APP_ID, API_KEY)


def test_identify_posts_the_person_with_traits_and_segments(http_mock, client):
    answer(http_mock, 200)

    result = convertloop_adapter.deliver(identify_action(), client)

    request = only_request(http_mock)
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/people")
    assert json_body(request) == {
        "email": EMAIL,
        "user_id": STRIPE_CUSTOMER,
        "first_name": "Jane",
        "last_name": "Doe",
        "plan": "pro",
        "answers": "red, blue",
        "signup_at": "2024-04-01T08:00:00Z",
        "survey": '{"score":9}',
        "add_to_segments": "Customers",
        "remove_from_segments": "Leads",
    }
    assert result.calls == ["POST /people"]


def test_track_posts_an_event_log_for_the_person(http_mock, client):
    answer(http_mock, 200)

    result = convertloop_adapter.deliver(track_action(), client)

    request = only_request(http_mock)
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/event_logs")
    assert json_body(request) == {
        "name": "invoice_paid",
        "occured_at": "2024-05-01T12:30:15Z",
        "ocurred_at": "2024-05-01T12:30:15Z",
        "person": {"email": EMAIL, "user_id": STRIPE_CUSTOMER},
        "metadata": {"invoice_id": "in_1", "amount_paid": 4500, "currency": "usd", "lines": [{"id": "il_1"}]},
    }
    assert result.calls == ["POST /event_logs"]


def test_track_with_identify_updates_the_person_in_the_same_call(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(identify_and_track_action(), client)
    body = json_body(only_request(http_mock))
    assert body["person"] == {
        "email": EMAIL,
        "user_id": STRIPE_CUSTOMER,
        "first_name": "Jane",
        "plan": "pro",
        "add_to_segments": "Customers",
    }
    assert body["metadata"] == {"amount_total": 4500, "mode": "payment"}


def test_invoice_action_is_tracked(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(invoice_action(), client)
    assert str(only_request(http_mock).url) == f"{BASE}/event_logs"


def test_without_email_the_stripe_customer_is_the_user_id(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(track_action(email=None), client)
    assert json_body(only_request(http_mock))["person"] == {"user_id": STRIPE_CUSTOMER}


def test_email_only_person(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(identify_action(stripe_customer_id=None), client)
    body = json_body(only_request(http_mock))
    assert body["email"] == EMAIL and "user_id" not in body


def test_traits_cannot_override_identifiers_or_segments(http_mock, client):
    answer(http_mock, 200)
    action = make_action(
        identify=True, person={"traits": {"email": "other@example.com", "add_to_segments": "X", "color": "red"}}
    )
    convertloop_adapter.deliver(action, client)
    assert json_body(only_request(http_mock)) == {"email": EMAIL, "user_id": STRIPE_CUSTOMER, "color": "red"}


def test_unidentified_person_is_rejected_without_a_call(http_mock, client):
    with pytest.raises(RequestValidationError, match="neither an email nor a Stripe customer id"):
        convertloop_adapter.deliver(track_action(email=None, stripe_customer_id=None), client)
    assert http_mock.calls.call_count == 0


def test_nothing_to_do_is_reported_not_sent(http_mock, client):
    result = convertloop_adapter.deliver(make_action(), client)
    assert result.skipped and result.calls == []
    assert http_mock.calls.call_count == 0
