"""What Customer.io receives for each kind of action."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webhook_bridge.vendors.customerio import adapter as customerio_adapter
from webhook_bridge.vendors.customerio.client import event_ulid
from webhook_bridge.vendors.exceptions import InternalServerError, RequestValidationError

from . import fixtures_actions as actions
from .conftest import CLIENTS, EMAIL, OCCURRED_AT, STRIPE_CUSTOMER, answer, json_body, make_action, only_request

BASE = "https://track.customer.io/api/v1"
ENCODED_EMAIL = "jane.doe%40example.com"
OCCURRED_AT_UNIX = 1714566615


client = pytest.fixture(CLIENTS["customerio"], name="client")


def test_identify_puts_the_customer_keyed_by_email(http_mock, client):
    answer(http_mock, 200)
    result = customerio_adapter.deliver(actions.identify_action(), client)
    request = only_request(http_mock, "PUT", f"{BASE}/customers/{ENCODED_EMAIL}")
    assert json_body(request) == {
        "email": EMAIL,
        "first_name": "Jane",
        "last_name": "Doe",
        "stripe_customer_id": STRIPE_CUSTOMER,
        "plan": "pro",
        "answers": ["red", "blue"],
        "signup_at": 1711958400,
        "survey": {"score": 9},
        "segment_Customers": True,
        "segment_Leads": False,
        # the SegMetrics tags of Person.memberships: no attribute here
    }
    assert result.calls == ["PUT /customers/{id}"]


def test_created_at_trait_becomes_the_documented_created_at(http_mock, client):
    answer(http_mock, 200)
    action = make_action(identify=True, person={"traits": {"created_at": datetime(2024, 1, 1, tzinfo=UTC)}})
    customerio_adapter.deliver(action, client)
    body = json_body(http_mock.calls.last.request)
    assert body["created_at"] == 1704067200


@pytest.mark.parametrize("answer_value", ["next spring", True, -86400, 10**30, ["2024-01-01"]])
def test_a_created_at_trait_that_is_no_time_is_left_out_not_sent_for_customerio_to_refuse(
    http_mock, client, answer_value
):
    # A form field whose ref is created_at, answered with free text (or a boolean, a number
    # out of range): Customer.io takes created_at only as unix seconds, and a 400 would
    # dead-letter the whole identify.
    answer(http_mock, 200)
    action = make_action(identify=True, person={"traits": {"created_at": answer_value, "plan": "pro"}})
    customerio_adapter.deliver(action, client)
    body = json_body(http_mock.calls.last.request)
    assert "created_at" not in body
    assert body["plan"] == "pro"


def test_track_posts_the_event_with_a_deterministic_ulid(http_mock, client):
    action = actions.track_action()
    answer(http_mock, 200)
    result = customerio_adapter.deliver(action, client)
    request = only_request(http_mock, "POST", f"{BASE}/customers/{ENCODED_EMAIL}/events")
    assert json_body(request) == {
        "name": "invoice_paid",
        "data": {"invoice_id": "in_1", "amount_paid": 4500, "currency": "usd", "lines": [{"id": "il_1"}]},
        "timestamp": OCCURRED_AT_UNIX,
        "id": event_ulid(action.id, OCCURRED_AT),
    }
    assert result.calls == ["POST /customers/{id}/events"]


def test_a_retry_sends_the_same_event_id(http_mock, client):
    answer(http_mock, 200)
    customerio_adapter.deliver(actions.track_action(), client)
    customerio_adapter.deliver(actions.track_action(), client)
    first, second = (json_body(call.request)["id"] for call in http_mock.calls)
    assert first == second


def test_identify_then_track_for_one_action(http_mock, client):
    answer(http_mock, 200)
    result = customerio_adapter.deliver(actions.identify_and_track_action(), client)
    methods = [(call.request.method, call.request.url.path) for call in http_mock.calls]
    assert methods == [
        ("PUT", "/api/v1/customers/jane.doe@example.com"),
        ("POST", "/api/v1/customers/jane.doe@example.com/events"),
    ]
    assert result.calls == ["PUT /customers/{id}", "POST /customers/{id}/events"]


@pytest.mark.parametrize("make", [actions.invoice_action, actions.subscription_action], ids=["invoice", "subscription"])
def test_invoice_and_subscription_actions_identify_then_track(http_mock, client, make):
    answer(http_mock, 200)
    action = make()

    result = customerio_adapter.deliver(action, client)

    calls = [(c.request.method, str(c.request.url), json_body(c.request)) for c in http_mock.calls]
    assert [(method, url) for method, url, _ in calls] == [
        ("PUT", f"{BASE}/customers/{ENCODED_EMAIL}"),
        ("POST", f"{BASE}/customers/{ENCODED_EMAIL}/events"),
    ]
    assert calls[1][2]["id"] == event_ulid(action.id, OCCURRED_AT)
    assert result.calls == ["PUT /customers/{id}", "POST /customers/{id}/events"]


def test_refund_is_one_event(http_mock, client):
    answer(http_mock, 200)
    result = customerio_adapter.deliver(actions.refund_action(), client)
    assert [(c.request.method, str(c.request.url)) for c in http_mock.calls] == [
        ("POST", f"{BASE}/customers/{ENCODED_EMAIL}/events")
    ]
    assert result.calls == ["POST /customers/{id}/events"]


def test_email_is_trimmed_and_lower_cased_not_case_folded(http_mock, client):
    answer(http_mock, 200)
    # lower(), not casefold(): "ß" stays "ß" (case-folding would make it another address)
    action = make_action(identify=True, email="  Straße.Doe@Example.COM ", stripe_customer_id=None)
    customerio_adapter.deliver(action, client)
    request = http_mock.calls.last.request
    assert str(request.url) == f"{BASE}/customers/stra%C3%9Fe.doe%40example.com"
    assert json_body(request) == {"email": "straße.doe@example.com"}


def test_failed_identify_stops_before_the_event(http_mock, client):
    answer(http_mock, 500)
    with pytest.raises(InternalServerError):
        customerio_adapter.deliver(actions.identify_and_track_action(), client)
    assert http_mock.calls.call_count == 1


def test_without_email_no_profile_is_made_under_the_stripe_customer_id(http_mock, client):
    with pytest.raises(RequestValidationError, match="no email"):
        customerio_adapter.deliver(actions.identify_action(email=None), client)
    assert http_mock.calls.call_count == 0
