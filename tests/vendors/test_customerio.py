"""Customer.io client: PUT/DELETE /customers/{id}, POST /customers/{id}/events, event ULIDs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from ulid import ULID

from webhook_bridge.vendors.customerio.client import EU_BASE_URL, CustomerIoClient, event_ulid
from webhook_bridge.vendors.exceptions import RequestValidationError

from .conftest import API_KEY, EMAIL, SITE_ID, answer, json_body, only_request, sent_once

BASIC = "Basic " + base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()
ENCODED_EMAIL = "jane.doe%40example.com"


@pytest.fixture
def client() -> CustomerIoClient:
    return CustomerIoClient(SITE_ID, API_KEY)


def test_identify_puts_attributes_with_created_at_in_unix_seconds(http_mock, client):
    answer(http_mock, 200, json={})

    client.identify(
        EMAIL,
        {"email": EMAIL, "plan": "premium", "trial_ends_at": datetime(2024, 6, 1, tzinfo=UTC), "tags": ["a"]},
        created_at=datetime(2024, 5, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=2))),
    )

    sent_once(
        http_mock,
        "PUT",
        f"https://track.customer.io/api/v1/customers/{ENCODED_EMAIL}",
        {
            "email": EMAIL,
            "plan": "premium",
            "trial_ends_at": 1717200000,
            "tags": ["a"],
            "created_at": 1714566615,
        },
        authorization=BASIC,
    )


def test_identify_without_created_at_omits_it(http_mock, client):
    answer(http_mock, 200)
    client.identify("5", {"name": "Bob"})
    request = only_request(http_mock)
    assert str(request.url) == "https://track.customer.io/api/v1/customers/5"
    assert json_body(request) == {"name": "Bob"}


def test_ids_are_url_encoded_as_one_path_segment(http_mock, client):
    answer(http_mock, 200)
    client.identify("a/b c?d", {})
    assert only_request(http_mock).url.raw_path == b"/api/v1/customers/a%2Fb%20c%3Fd"


def test_delete_customer(http_mock, client):
    answer(http_mock, 200)
    client.delete_customer(EMAIL)
    sent_once(http_mock, "DELETE", f"https://track.customer.io/api/v1/customers/{ENCODED_EMAIL}", authorization=BASIC)


def test_track_event_posts_name_data_timestamp_and_id(http_mock, client):
    answer(http_mock, 200)
    event_id = event_ulid("stripe:evt_1:0", datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC))

    client.track_event(
        "cus_1",
        "purchased",
        {"price": 23.45, "at": datetime(2024, 5, 1, tzinfo=UTC)},
        timestamp=datetime(2024, 5, 1, 12, 30, 15, 900000, tzinfo=UTC),
        event_id=event_id,
    )

    sent_once(
        http_mock,
        "POST",
        "https://track.customer.io/api/v1/customers/cus_1/events",
        {
            "name": "purchased",
            "data": {"price": 23.45, "at": 1714521600},
            "timestamp": 1714566615,
            "id": event_id,
        },
        authorization=BASIC,
    )


def test_track_event_minimal(http_mock, client):
    answer(http_mock, 200)
    client.track_event("5", "eventName")
    assert json_body(only_request(http_mock)) == {"name": "eventName", "data": {}}


def test_eu_region_is_only_a_base_url(http_mock):
    answer(http_mock, 200)
    CustomerIoClient(SITE_ID, API_KEY, base_url=EU_BASE_URL).delete_customer("5")
    assert str(only_request(http_mock).url) == "https://track-eu.customer.io/api/v1/customers/5"


def test_event_ulid_is_deterministic_and_carries_the_time():
    moment = datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)
    first = event_ulid("stripe:evt_1:0", moment)
    assert first == event_ulid("stripe:evt_1:0", moment)
    assert first != event_ulid("stripe:evt_1:1", moment)
    parsed = ULID.from_str(first)
    assert len(first) == 26
    assert parsed.milliseconds == 1714566615123
    assert event_ulid("a", moment.replace(tzinfo=None)) == event_ulid("a", moment)  # naive = UTC


@pytest.mark.parametrize(
    ("customer_id", "reason"),
    [("", "must not be empty"), ("   ", "must not be empty")],
)
def test_bad_customer_ids_are_rejected_before_any_call(http_mock, client, customer_id, reason):
    for call in (
        lambda: client.identify(customer_id, {"a": 1}),
        lambda: client.delete_customer(customer_id),
        lambda: client.track_event(customer_id, "x"),
    ):
        with pytest.raises(RequestValidationError, match=reason):
            call()
    assert http_mock.calls.call_count == 0


def test_a_long_id_is_sent_whole(http_mock, client):
    # The document sets no limit on ids, and an email may be 254 characters long.
    email = "é" * 2 + "x" * 48 + "@" + "d" * 199 + ".com"
    answer(http_mock, 200)
    client.delete_customer(email)
    encoded = "%C3%A9%C3%A9" + "x" * 48 + "%40" + "d" * 199 + ".com"
    sent_once(http_mock, "DELETE", f"https://track.customer.io/api/v1/customers/{encoded}", authorization=BASIC)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"name": "x", "event_id": "not-a-ulid"},
        {"name": "x", "timestamp": "yesterday"},
    ],
)
def test_invalid_events_are_rejected_before_any_call(http_mock, client, kwargs):
    with pytest.raises(RequestValidationError):
        client.track_event("5", **kwargs)
    assert http_mock.calls.call_count == 0
