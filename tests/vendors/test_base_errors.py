"""The one place where responses become errors: status classes, reasons, Retry-After, transport failures."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TypeVar

import httpx
import pytest

from webhook_bridge.vendors import base
from webhook_bridge.vendors.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    VendorError,
)
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, answer

Failure = TypeVar("Failure", bound=VendorError)


@pytest.fixture
def loops() -> LoopsClient:
    return LoopsClient(API_KEY)


@pytest.fixture
def segmetrics() -> SegMetricsClient:
    return SegMetricsClient("acct1", "integ1", API_KEY)


def refused(loops: LoopsClient, error_class: type[Failure]) -> Failure:
    """The error a contact update raises, which must be an ``error_class``."""
    with pytest.raises(error_class) as caught:
        loops.update_contact({"email": "a@example.com"})
    return caught.value


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (400, BadRequestError, False),
        (422, BadRequestError, False),
        (401, AuthenticationError, True),  # retried: keys get rotated
        (403, AuthenticationError, True),
        (404, NotFoundError, False),
        (409, ConflictError, False),
        (429, RateLimitError, True),
        (408, InternalServerError, True),
        (500, InternalServerError, True),
        (502, InternalServerError, True),
        (503, InternalServerError, True),
        (504, InternalServerError, True),
        (418, APIStatusError, False),
        (302, APIStatusError, False),
    ],
)
def test_status_codes_map_to_the_error_tree(http_mock, loops, status, error_class, retryable):
    answer(http_mock, status, json={"message": "nope"})

    error = refused(loops, error_class)

    assert type(error) is error_class
    assert error.status_code == status
    assert error.retryable is retryable
    assert error.vendor == "loops"
    assert error.errors == ["nope"]
    assert f"HTTP {status}" in str(error)
    assert "PUT /contacts/update" in str(error)


def test_segmetrics_400_carries_its_errors_list(http_mock, segmetrics):
    answer(http_mock, 400, json={"status": "error", "errors": ["missing 'id' field ", "amount is invalid"]})

    with pytest.raises(BadRequestError) as caught:
        segmetrics.upsert_contact({"contact_id": 1, "email": "jane@example.com"})

    assert caught.value.errors == ["missing 'id' field ", "amount is invalid"]
    assert str(caught.value).endswith(": missing 'id' field ; amount is invalid")
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"errors": {"email": ["is invalid"], "name": "blank"}}, ["email: is invalid", "name: blank"]),
        ({"errors": [{"field": "email", "message": "is invalid"}]}, ["email: is invalid"]),
        ({"error": {"message": "bad key"}}, ["bad key"]),
        ({"detail": "not allowed"}, ["not allowed"]),
        (["first", "second"], ["first", "second"]),
        ({"success": False}, []),
        ({"error_message": "quota exceeded"}, ["quota exceeded"]),
        ({"errors": [{"detail": "a"}, {"error": "b"}, {"reason": "c"}]}, ["a", "b", "c"]),
        (
            {
                "errors": [
                    {"param": "email", "message": "m"},
                    {"path": "x.y", "message": "n"},
                    {"field": 5, "message": "o"},
                ]
            },
            ["email: m", "x.y: n", "o"],
        ),
        ({"errors": [["too", "short"]]}, ["too, short"]),
        ({"errors": [{"code": 7, "info": "déjà vu"}]}, ['{"code":7,"info":"déjà vu"}']),
    ],
)
def test_other_json_error_shapes_become_messages(http_mock, loops, payload, expected):
    answer(http_mock, 422, json=payload)

    error = refused(loops, BadRequestError)

    assert error.errors == expected


@pytest.mark.parametrize(("body", "expected"), [(b'"rate limited"', ["rate limited"]), (b"42", ["42"]), (b"null", [])])
def test_a_json_scalar_is_the_reason_itself(http_mock, loops, body, expected):
    answer(http_mock, 400, content=body)
    error = refused(loops, BadRequestError)
    assert error.errors == expected
    assert str(error) == f"loops: HTTP 400: PUT /contacts/update: {'; '.join(expected) or 'Bad Request'}"


def test_echoed_secrets_and_addresses_leave_only_placeholders_and_hints(http_mock, loops):
    answer(http_mock, 400, json={"message": f"key {API_KEY} cannot update jane.doe%40example.com"})
    with pytest.raises(BadRequestError) as caught:
        loops.update_contact({"email": "jane.doe@example.com"})
    assert caught.value.errors == ["key *** cannot update j***@e***.com"]


def test_plain_text_error_body_is_kept_but_html_is_not(http_mock, loops):
    answer(http_mock, 400, text="email   is\ninvalid")
    error = refused(loops, BadRequestError)
    assert error.errors == ["email is invalid"]

    http_mock.routes.clear()
    answer(http_mock, 502, text="<html><body>Bad gateway</body></html>")
    html_error = refused(loops, InternalServerError)
    assert html_error.errors == []
    assert "Bad Gateway" in str(html_error)


@pytest.mark.parametrize(
    ("status", "headers", "error_class", "retry_after"),
    [
        (429, {"Retry-After": "7"}, RateLimitError, 7.0),
        (429, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0"}, RateLimitError, None),  # no hint
        (503, {"Retry-After": "30"}, InternalServerError, 30.0),
        (500, {"x-ratelimit-reset": "30"}, InternalServerError, None),  # quota headers speak of 429s only
        (408, {"Retry-After": "1"}, InternalServerError, 1.0),  # transient
        # capped at a week: the delivery schedule then caps it by its window
        (429, {"Retry-After": "99999999"}, RateLimitError, 7 * 86400.0),
    ],
)
def test_retry_after_in_seconds_on_transient_failures(http_mock, loops, status, headers, error_class, retry_after):
    answer(http_mock, status, headers=headers)
    error = refused(loops, error_class)
    assert (error.retry_after, error.retryable) == (retry_after, True)


def test_429_retry_after_as_http_date(http_mock, loops):
    when = datetime.now(UTC) + timedelta(seconds=120)
    answer(http_mock, 429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    error = refused(loops, RateLimitError)
    assert error.retry_after is not None
    assert 110 <= error.retry_after <= 120


# Headers are built when the test runs (not at collection) so epoch-based values stay in the future.
@pytest.mark.parametrize(
    ("make_headers", "low", "high"),
    [
        (lambda now: {"x-ratelimit-reset": "3"}, 3, 3),  # a delay
        (lambda now: {"ratelimit-reset": "12"}, 12, 12),
        (lambda now: {"x-ratelimit-reset": str(int(now) + 30)}, 25, 31),  # an epoch in seconds
        (lambda now: {"x-ratelimit-reset": str(int(now * 1000) + 30_000)}, 25, 31),  # an epoch in ms
        (lambda now: {"ratelimit": "limit=10, remaining=0, reset=4"}, 4, 4),
        (lambda now: {"ratelimit": '"default";r=0;t=6'}, 6, 6),
        (lambda now: {"x-ratelimit-reset": str(int(now) - 100)}, 0, 0),  # already passed: now
        (lambda now: {"retry-after": "2", "x-ratelimit-reset": "50"}, 2, 2),  # Retry-After wins
    ],
)
def test_429_retry_after_from_rate_limit_headers(http_mock, loops, make_headers, low, high):
    answer(http_mock, 429, headers=make_headers(time.time()))
    error = refused(loops, RateLimitError)
    assert error.retry_after is not None
    assert low <= error.retry_after <= high


def test_timeout_becomes_api_timeout_error(http_mock, loops):
    http_mock.route().mock(side_effect=httpx.ReadTimeout("The read operation timed out"))
    error = refused(loops, APITimeoutError)
    assert error.retryable
    assert isinstance(error, APIConnectionError)
    assert error.__cause__ is None and error.__suppress_context__


def test_connect_timeout_is_a_timeout_too(http_mock, loops):
    http_mock.route().mock(side_effect=httpx.ConnectTimeout("timed out"))
    refused(loops, APITimeoutError)


def test_connection_error_becomes_api_connection_error(http_mock, loops):
    http_mock.route().mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    error = refused(loops, APIConnectionError)
    assert type(error) is APIConnectionError
    assert error.retryable
    assert "Connection refused" in str(error)


def test_one_attempt_per_call_no_hidden_retries(http_mock, loops):
    answer(http_mock, 503)
    refused(loops, InternalServerError)
    assert http_mock.calls.call_count == 1


def test_shared_http_client_is_created_once_and_reused():
    first = base.shared_http_client()
    assert base.shared_http_client() is first
    assert LoopsClient(API_KEY).http is first
    assert first.timeout.connect == 3.0
    assert first.timeout.read == 10.0
    assert first.follow_redirects is False


def test_shared_http_client_is_recreated_after_close():
    first = base.shared_http_client()
    base.close_shared_http_client()
    second = base.shared_http_client()
    assert second is not first and not second.is_closed


def test_an_injected_http_client_is_used(http_mock):
    answer(http_mock, 200, json={"success": True})
    own = httpx.Client()
    client = LoopsClient(API_KEY, http=own)
    assert client.http is own
    client.update_contact({"email": "a@example.com"})
    assert http_mock.calls.call_count == 1


def test_empty_or_non_json_success_bodies_are_none(http_mock, loops):
    answer(http_mock, 200)
    assert loops.update_contact({"email": "a@example.com"}) is None
    http_mock.routes.clear()
    answer(http_mock, 200, text="OK")
    assert loops.update_contact({"email": "a@example.com"}) is None


def test_repr_shows_no_credentials():
    client = LoopsClient(API_KEY)
    assert API_KEY not in repr(client)
    assert "app.loops.so" in repr(client)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "invalid_api_key", "message": "Invalid key"}, "invalid_api_key"),
        ({"error": {"type": "rate_limit", "message": "slow"}}, "rate_limit"),
        ({"meta": {"error_code": 1042}}, "1042"),
        ({"errorCode": "E42", "message": "camel case"}, "E42"),
        ({"code": "jane@example.com is taken"}, None),  # free text is never a code
        ({"message": "no code here"}, None),
    ],
)
def test_the_vendors_error_code_is_kept_when_it_looks_like_one(http_mock, loops, body, code):
    answer(http_mock, 400, json=body)
    error = refused(loops, BadRequestError)
    assert error.code == code
