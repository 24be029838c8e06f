"""What ConvertLoop receives for each kind of action."""

from __future__ import annotations

import httpx
import pytest

from webhook_bridge.actions import Memberships
from webhook_bridge.vendors.convertloop import adapter as convertloop_adapter
from webhook_bridge.vendors.exceptions import InternalServerError, VendorError

from . import fixtures_actions as actions
from .conftest import CLIENTS, EMAIL, STRIPE_CUSTOMER, answer, json_body, make_action, only_request

BASE = "https://api.convertloop.co/v1"


client = pytest.fixture(CLIENTS["convertloop"], name="client")


def test_identify_posts_the_person_with_traits_and_segments(http_mock, client):
    answer(http_mock, 200)
    result = convertloop_adapter.deliver(actions.identify_action(), client)
    request = only_request(http_mock, "POST", f"{BASE}/people")
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
        # the SegMetrics tags of Person.memberships are not ConvertLoop segments
    }
    assert result.calls == ["POST /people"]


def test_several_segments_take_one_person_request_each_beyond_the_first(http_mock, client):
    answer(http_mock, 200)
    memberships = {"convertloop": Memberships(join=("Customers", "Annual"), leave=("Leads", "Trials", "Churned"))}
    action = make_action(identify=True, person={"first_name": "Jane", "memberships": memberships})

    result = convertloop_adapter.deliver(action, client)

    ids = {"email": EMAIL, "user_id": STRIPE_CUSTOMER}
    assert sent(http_mock) == [
        (
            "POST",
            f"{BASE}/people",
            {**ids, "first_name": "Jane", "add_to_segments": "Customers", "remove_from_segments": "Leads"},
        ),
        ("POST", f"{BASE}/people", {**ids, "add_to_segments": "Annual", "remove_from_segments": "Trials"}),
        ("POST", f"{BASE}/people", {**ids, "remove_from_segments": "Churned"}),
    ]
    assert result.calls == ["POST /people"] * 3


def test_track_posts_an_event_log_for_the_person(http_mock, client):
    answer(http_mock, 200)
    result = convertloop_adapter.deliver(actions.track_action(), client)
    request = only_request(http_mock, "POST", f"{BASE}/event_logs")
    assert json_body(request) == {
        "name": "invoice_paid",
        "occured_at": "2024-05-01T12:30:15Z",  # the attribute table's spelling, and only it
        "person": {"email": EMAIL, "user_id": STRIPE_CUSTOMER},
        "metadata": {"invoice_id": "in_1", "amount_paid": 4500, "currency": "usd", "lines": [{"id": "il_1"}]},
    }
    assert result.calls == ["POST /event_logs"]


def sent(http_mock):
    return [(c.request.method, str(c.request.url), json_body(c.request)) for c in http_mock.calls]


@pytest.mark.parametrize(
    ("action", "person", "event_log"),
    [
        (
            actions.identify_and_track_action(),
            {
                "email": EMAIL,
                "user_id": STRIPE_CUSTOMER,
                "first_name": "Jane",
                "plan": "pro",
                "add_to_segments": "Customers",  # segments only: the SegMetrics tag "Buyer" is not sent
            },
            {
                "name": "checkout_completed",
                "occured_at": "2024-05-01T12:30:15Z",
                # identifiers only: the person's traits are not repeated
                "person": {"email": EMAIL, "user_id": STRIPE_CUSTOMER},
                "metadata": {"amount_total": 4500, "mode": "payment"},
            },
        ),
        (
            actions.invoice_action(),
            {"email": EMAIL, "user_id": STRIPE_CUSTOMER, "first_name": "Jane", "last_name": "Doe"},
            {
                "name": "invoice_paid",
                "occured_at": "2024-05-01T12:30:15Z",
                "person": {"email": EMAIL, "user_id": STRIPE_CUSTOMER},
                "metadata": {"invoice_id": "in_1", "amount_paid": 4500, "currency": "usd"},
            },
        ),
        (
            actions.subscription_action(email=None),
            {"user_id": STRIPE_CUSTOMER, "subscription_status": "active", "plan": "pro"},
            {
                "name": "subscription_updated",
                "occured_at": "2024-05-01T12:30:15Z",
                "person": {"user_id": STRIPE_CUSTOMER},
                "metadata": {"status": "active", "plan": "pro"},
            },
        ),
    ],
    ids=["identify-and-track", "invoice", "subscription"],
)
def test_an_identifying_action_posts_the_person_then_the_event_log(http_mock, client, action, person, event_log):
    answer(http_mock, 200)

    result = convertloop_adapter.deliver(action, client)

    assert sent(http_mock) == [("POST", f"{BASE}/people", person), ("POST", f"{BASE}/event_logs", event_log)]
    assert result.calls == ["POST /people", "POST /event_logs"]


def test_refund_is_one_event_log(http_mock, client):
    answer(http_mock, 200)
    result = convertloop_adapter.deliver(actions.refund_action(), client)
    assert [(m, u) for m, u, _ in sent(http_mock)] == [("POST", f"{BASE}/event_logs")]
    assert result.calls == ["POST /event_logs"]


def test_failed_identify_stops_before_the_event(http_mock, client):
    answer(http_mock, 500)
    with pytest.raises(InternalServerError):
        convertloop_adapter.deliver(actions.invoice_action(), client)
    assert [str(c.request.url) for c in http_mock.calls] == [f"{BASE}/people"]


def test_a_retry_after_a_failed_event_repeats_the_upsert_then_the_event(http_mock, client):
    http_mock.post(f"{BASE}/people").respond(200)
    event_logs = http_mock.post(f"{BASE}/event_logs")
    event_logs.side_effect = [httpx.Response(503), httpx.Response(200)]
    with pytest.raises(InternalServerError):
        convertloop_adapter.deliver(actions.invoice_action(), client)
    convertloop_adapter.deliver(actions.invoice_action(), client)
    bodies = sent(http_mock)
    assert [u for _, u, _ in bodies] == [f"{BASE}/people", f"{BASE}/event_logs"] * 2
    assert bodies[:2] == bodies[2:]


def test_without_email_the_stripe_customer_is_the_user_id(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(actions.track_action(email=None), client)
    assert json_body(only_request(http_mock))["person"] == {"user_id": STRIPE_CUSTOMER}


def test_email_only_person(http_mock, client):
    answer(http_mock, 200)
    convertloop_adapter.deliver(actions.identify_action(stripe_customer_id=None), client)
    body = json_body(only_request(http_mock))
    assert body["email"] == EMAIL and "user_id" not in body


def test_traits_cannot_override_identifiers_or_segments(http_mock, client):
    answer(http_mock, 200)
    action = make_action(
        identify=True, person={"traits": {"email": "other@example.com", "add_to_segments": "X", "color": "red"}}
    )
    convertloop_adapter.deliver(action, client)
    assert json_body(only_request(http_mock)) == {"email": EMAIL, "user_id": STRIPE_CUSTOMER, "color": "red"}


def test_nothing_to_do_is_reported_not_sent(http_mock, client):
    result = convertloop_adapter.deliver(make_action(), client)
    assert result.skipped and result.calls == []
    assert http_mock.calls.call_count == 0


@pytest.mark.parametrize(
    ("failure", "possibly_applied"),
    [
        (httpx.Response(503), True),  # ConvertLoop may have stored it before failing
        (httpx.ReadTimeout("timed out"), True),
        (httpx.Response(422, json={"message": "invalid"}), False),  # refused: nothing was kept
    ],
)
def test_a_failed_event_log_that_may_have_been_kept_is_marked(http_mock, client, failure, possibly_applied):
    people = http_mock.post(f"{BASE}/people").respond(200)
    if isinstance(failure, httpx.Response):
        http_mock.post(f"{BASE}/event_logs").mock(return_value=failure)
    else:
        http_mock.post(f"{BASE}/event_logs").mock(side_effect=failure)
    with pytest.raises(VendorError) as caught:
        convertloop_adapter.deliver(actions.identify_and_track_action(), client)
    assert caught.value.possibly_applied is possibly_applied
    assert people.called


def test_a_failed_identify_is_never_a_possible_duplicate(http_mock, client):
    http_mock.post(f"{BASE}/people").respond(503)  # an upsert: repeating it changes nothing
    with pytest.raises(InternalServerError) as caught:
        convertloop_adapter.deliver(actions.identify_and_track_action(), client)
    assert caught.value.possibly_applied is False
