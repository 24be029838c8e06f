"""ConvertLoop client: POST /people and POST /event_logs, exactly as documented."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from webhook_bridge.vendors.convertloop.client import ConvertLoopClient, EventLogRequest, PersonRequest
from webhook_bridge.vendors.exceptions import RequestValidationError

from .conftest import API_KEY, APP_ID, EMAIL, answer, json_body, only_request, sent_once

BASIC = "Basic " + base64.b64encode(f"{APP_ID}:{API_KEY}".encode()).decode()


@pytest.fixture
def client() -> ConvertLoopClient:
    return ConvertLoopClient(APP_ID, API_KEY)


def test_upsert_person_posts_identifiers_attributes_and_segments(http_mock, client):
    answer(http_mock, 200, json={"status": "ok"})

    result = client.upsert_person(
        PersonRequest(
            email=EMAIL,
            user_id="cus_1",
            first_name="Jane",
            plan="pro",
            add_to_segments=["Customers"],
            remove_from_segments="Leads",
            first_seen_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            last_seen_at=datetime(2024, 5, 1, 12, 0, 0),  # naive: read as UTC
            resubscribe=True,
        )
    )

    sent_once(
        http_mock,
        "POST",
        "https://api.convertloop.co/v1/people",
        {
            "email": EMAIL,
            "user_id": "cus_1",
            "first_name": "Jane",
            "plan": "pro",
            "add_to_segments": "Customers",  # the documented string
            "remove_from_segments": "Leads",
            "first_seen_at": "2024-01-02T03:04:05Z",
            "last_seen_at": "2024-05-01T12:00:00Z",
            "resubscribe": True,
        },
        authorization=BASIC,
    )
    assert result == [{"status": "ok"}]


def test_several_segments_go_one_string_per_request_the_first_with_the_attributes(http_mock, client):
    answer(http_mock, 200, json={"status": "ok"})

    answered = client.upsert_person(
        PersonRequest(
            email=EMAIL,
            user_id="cus_1",
            plan="pro",
            add_to_segments=["Customers", "Annual", "Beta"],
            remove_from_segments=["Leads", "Trials"],
        )
    )

    assert [(call.request.method, str(call.request.url)) for call in http_mock.calls] == [
        ("POST", "https://api.convertloop.co/v1/people")
    ] * 3
    assert [json_body(call.request) for call in http_mock.calls] == [
        {
            "email": EMAIL,
            "user_id": "cus_1",
            "plan": "pro",
            "add_to_segments": "Customers",
            "remove_from_segments": "Leads",
        },
        {"email": EMAIL, "user_id": "cus_1", "add_to_segments": "Annual", "remove_from_segments": "Trials"},
        {"email": EMAIL, "user_id": "cus_1", "add_to_segments": "Beta"},
    ]
    assert answered == [{"status": "ok"}] * 3


def test_an_event_logs_person_names_one_segment_each_way(http_mock, client):
    with pytest.raises(RequestValidationError, match="at most one segment"):
        client.create_event_log({"name": "paid", "person": {"email": EMAIL, "add_to_segments": ["A", "B"]}})
    assert http_mock.calls.call_count == 0


def test_upsert_person_accepts_a_plain_mapping_and_pid_alone(http_mock, client):
    answer(http_mock, 200)
    client.upsert_person({"pid": "cookie-123", "favorite_color": "blue"})
    assert json_body(only_request(http_mock)) == {"pid": "cookie-123", "favorite_color": "blue"}


def test_create_event_log_posts_name_time_person_and_metadata(http_mock, client):
    answer(http_mock, 200)

    client.create_event_log(
        EventLogRequest(
            name="invoice_paid",
            occurred_at=datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC),
            person=PersonRequest(email=EMAIL, add_to_segments="Customers"),
            metadata={"amount": 4500, "currency": "usd", "paid_at": datetime(2024, 5, 1, tzinfo=UTC)},
        )
    )

    sent_once(
        http_mock,
        "POST",
        "https://api.convertloop.co/v1/event_logs",
        {
            "name": "invoice_paid",
            # The document spells the key two ways; only the attribute table's is sent.
            "occured_at": "2024-05-01T12:30:15.250Z",
            "person": {"email": EMAIL, "add_to_segments": "Customers"},
            "metadata": {"amount": 4500, "currency": "usd", "paid_at": "2024-05-01T00:00:00Z"},
        },
        authorization=BASIC,
    )


def test_event_log_without_time_or_person_sends_only_the_name(http_mock, client):
    answer(http_mock, 200)
    client.create_event_log({"name": "ping"})
    assert json_body(only_request(http_mock)) == {"name": "ping"}


def test_custom_base_url(http_mock):
    answer(http_mock, 200)
    ConvertLoopClient(APP_ID, API_KEY, base_url="http://127.0.0.1:9000/convertloop/v1/").upsert_person({"email": EMAIL})
    assert str(only_request(http_mock).url) == "http://127.0.0.1:9000/convertloop/v1/people"


@pytest.mark.parametrize(
    "person",
    [
        {"first_name": "Jane"},  # no pid, user_id or email
        {"email": ""},
        {"email": "   "},
        {"email": "not-an-email"},
        {"user_id": "u1", "add_to_segments": [""]},
        {"user_id": "u1", "resubscribe": "maybe"},
    ],
)
def test_invalid_person_is_rejected_before_any_call(http_mock, client, person):
    with pytest.raises(RequestValidationError) as caught:
        client.upsert_person(person)
    assert caught.value.vendor == "convertloop"
    assert not caught.value.retryable
    assert http_mock.calls.call_count == 0


def test_missing_identifier_message_is_clear(http_mock):
    with pytest.raises(RequestValidationError, match="one of pid, user_id or email is required"):
        PersonRequest(first_name="Jane")


@pytest.mark.parametrize(
    "event",
    [
        {},  # name is required
        {"name": ""},
        {"name": "x", "person": {"plan": "pro"}},  # a person hash must say who
        {"name": "x", "metadata": "not a hash"},
        {"name": "x", "occurred_at": "yesterday"},
    ],
)
def test_invalid_event_log_is_rejected_before_any_call(http_mock, client, event):
    with pytest.raises(RequestValidationError):
        client.create_event_log(event)
    assert http_mock.calls.call_count == 0
