"""Loops client: contacts create/update/find/delete and events/send with Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webhook_bridge.vendors.exceptions import ConflictError, RequestValidationError
from webhook_bridge.vendors.loops.client import ContactUpdateRequest, EventRequest, LoopsClient

from .conftest import API_KEY, EMAIL, answer, json_body, only_request, sent_once

BEARER = f"Bearer {API_KEY}"


@pytest.fixture
def client() -> LoopsClient:
    return LoopsClient(API_KEY)


def test_update_contact_by_email(http_mock, client):
    answer(http_mock, 200, json={"success": True})
    client.update_contact(ContactUpdateRequest(email=EMAIL, first_name="Adam", userGroup="Founders", plan_rank=3))

    sent_once(
        http_mock,
        "PUT",
        "https://app.loops.so/api/v1/contacts/update",
        {"email": EMAIL, "firstName": "Adam", "userGroup": "Founders", "plan_rank": 3},
        authorization=BEARER,
    )


def test_update_contact_with_a_user_id_beside_the_email(http_mock, client):
    answer(http_mock, 200)
    client.update_contact({"email": EMAIL, "userId": "cus_1", "trialEndsAt": datetime(2024, 6, 1, tzinfo=UTC)})
    assert json_body(only_request(http_mock)) == {
        "email": EMAIL,
        "userId": "cus_1",
        "trialEndsAt": "2024-06-01T00:00:00Z",
    }


@pytest.mark.parametrize(
    ("kwargs", "body"), [({"email": EMAIL}, {"email": EMAIL}), ({"user_id": "u1"}, {"userId": "u1"})]
)
def test_delete_contact_by_email_or_user_id(http_mock, client, kwargs, body):
    answer(http_mock, 200, json={"success": True, "message": "Contact deleted."})
    client.delete_contact(**kwargs)
    sent_once(http_mock, "POST", "https://app.loops.so/api/v1/contacts/delete", body, authorization=BEARER)


def test_send_event_with_properties_and_idempotency_key(http_mock, client):
    answer(http_mock, 200, json={"success": True})

    result = client.send_event(
        EventRequest(
            email=EMAIL,
            userId="cus_1",
            eventName="conversion",
            renewsAt=datetime(2024, 5, 1, tzinfo=UTC),
            plan="pro",
            price=99,
        ),
        idempotency_key="loops-key-1",
    )

    request = sent_once(
        http_mock,
        "POST",
        "https://app.loops.so/api/v1/events/send",
        {
            "email": EMAIL,
            "userId": "cus_1",
            "eventName": "conversion",
            "renewsAt": "2024-05-01T00:00:00Z",
            "plan": "pro",
            "price": 99,
        },
        authorization=BEARER,
    )
    assert request.headers["idempotency-key"] == "loops-key-1"
    assert result.duplicate is False
    assert result.response == {"success": True}


def test_send_event_409_means_already_sent(http_mock, client):
    answer(http_mock, 409, json={"success": False, "message": "Idempotency key already used"})
    result = client.send_event({"email": EMAIL, "eventName": "conversion"}, idempotency_key="k")
    assert result.duplicate is True


def test_409_elsewhere_is_still_an_error(http_mock, client):
    answer(http_mock, 409, json={"success": False, "message": "Conflict"})
    with pytest.raises(ConflictError):
        client.update_contact({"email": EMAIL})


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("update_contact", {"email": "nobody"}),
        ("update_contact", {"firstName": "Adam"}),  # "The only required field is 'email'"
        ("update_contact", {"userId": "u1", "firstName": "Adam"}),  # a userId does not replace it
        ("update_contact", {"email": EMAIL, "nested": {"a": 1}}),  # properties are flat
        ("update_contact", {"email": EMAIL, "tags": ["a"]}),
        # not in the document, so a contact property like any other: an object is refused
        ("update_contact", {"email": EMAIL, "mailingLists": {"list_1": True}}),
    ],
)
def test_invalid_contacts_are_rejected_before_any_call(http_mock, client, method, payload):
    with pytest.raises(RequestValidationError):
        getattr(client, method)(payload)
    assert http_mock.calls.call_count == 0


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"eventName": "x"}, "k"),  # no email: "Both fields are required"
        ({"eventName": "x", "userId": "u1"}, "k"),
        ({"email": EMAIL}, "k"),  # no eventName
        ({"email": EMAIL, "eventName": ""}, "k"),
        # any field but eventName is a contact attribute: plain values only
        ({"email": EMAIL, "eventName": "x", "eventProperties": {"amount": 1}}, "k"),
        ({"email": EMAIL, "eventName": "x"}, ""),  # idempotency key required
        ({"email": EMAIL, "eventName": "x"}, "k" * 101),  # at most 100 characters
        ({"email": EMAIL, "eventName": "x"}, "bad\nkey"),
    ],
)
def test_invalid_events_are_rejected_before_any_call(http_mock, client, payload, key):
    with pytest.raises(RequestValidationError):
        client.send_event(payload, idempotency_key=key)
    assert http_mock.calls.call_count == 0


def test_idempotency_key_of_100_characters_is_accepted(http_mock, client):
    answer(http_mock, 200)
    client.send_event({"email": EMAIL, "eventName": "x"}, idempotency_key="k" * 100)
    assert only_request(http_mock).headers["idempotency-key"] == "k" * 100


@pytest.mark.parametrize("kwargs", [{}, {"email": EMAIL, "user_id": "u1"}, {"email": ""}])
def test_delete_needs_exactly_one_identifier(http_mock, client, kwargs):
    with pytest.raises(RequestValidationError, match="exactly one of email or userId"):
        client.delete_contact(**kwargs)
    assert http_mock.calls.call_count == 0
