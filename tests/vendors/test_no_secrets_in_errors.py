"""No exception text, traceback or log line carries an API key, an auth header or a raw email."""

from __future__ import annotations

import base64
import logging
import traceback

import httpx
import pytest

from webhook_bridge.vendors.convertloop.client import ConvertLoopClient
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.exceptions import VendorError
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, APP_ID, EMAIL, SITE_ID, answer

FORBIDDEN = (
    API_KEY,
    EMAIL,
    "jane.doe%40example.com",
    base64.b64encode(f"{APP_ID}:{API_KEY}".encode()).decode(),
    base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode(),
)


def everything_visible(error: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error)), caplog.text]
    if isinstance(error, VendorError):
        parts.append(error.message)
        parts.extend(getattr(error, "errors", []))
    return "\n".join(parts)


def assert_clean(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    visible = everything_visible(error, caplog)
    for secret in FORBIDDEN:
        assert secret not in visible, f"leaked {secret!r}"


@pytest.fixture(autouse=True)
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)


ECHOING_BODIES = [
    {"message": f"Invalid API key {API_KEY} for {EMAIL}"},
    {"status": "error", "errors": [f"contact {EMAIL} is invalid", f"key {API_KEY}"]},
    {"errors": {"email": f"{EMAIL} taken"}},
]


@pytest.mark.parametrize("status", [400, 401, 404, 409, 429, 500])
@pytest.mark.parametrize("body", ECHOING_BODIES)
def test_status_errors_echoing_secrets_are_redacted(http_mock, caplog, status, body):
    answer(http_mock, status, json=body)
    with pytest.raises(VendorError) as caught:
        CustomerIoClient(SITE_ID, API_KEY).identify(EMAIL, {"email": EMAIL})
    assert_clean(caught.value, caplog)
    assert "j***@e***.com" in str(caught.value)  # masked, still useful to correlate


def test_basic_auth_token_echoed_back_is_redacted(http_mock, caplog):
    token = base64.b64encode(f"{APP_ID}:{API_KEY}".encode()).decode()
    answer(http_mock, 401, text=f"bad credentials: Basic {token}")
    with pytest.raises(VendorError) as caught:
        ConvertLoopClient(APP_ID, API_KEY).upsert_person({"email": EMAIL})
    assert_clean(caught.value, caplog)


def test_email_in_the_path_is_not_in_the_error(http_mock, caplog):
    answer(http_mock, 404, text="Not Found")
    with pytest.raises(VendorError) as caught:
        SegMetricsClient("acct1", "integ1", API_KEY).delete_contact(EMAIL)
    assert "DELETE /{account_id}/{integration_id}/contact/{contact}" in str(caught.value)
    assert_clean(caught.value, caplog)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError(f"cannot reach https://track.customer.io/api/v1/customers/{EMAIL}"),
        httpx.ReadTimeout(f"timed out for {EMAIL}"),
    ],
)
def test_transport_errors_are_not_chained_and_are_masked(http_mock, caplog, failure):
    http_mock.route().mock(side_effect=failure)
    with pytest.raises(VendorError) as caught:
        CustomerIoClient(SITE_ID, API_KEY).track_event(EMAIL, "x")
    assert caught.value.__cause__ is None
    assert_clean(caught.value, caplog)


@pytest.mark.parametrize(
    "call",
    [
        lambda: LoopsClient(API_KEY).update_contact({"email": f"{EMAIL} ", "nested": {"email": EMAIL}}),
        lambda: LoopsClient(API_KEY).send_event({"email": EMAIL, "eventName": ""}, idempotency_key="k"),
        lambda: ConvertLoopClient(APP_ID, API_KEY).upsert_person({"email": f"not an email {EMAIL}"}),
        lambda: SegMetricsClient("a", "i", API_KEY).add_tags({"email": EMAIL, "tags": [{"date": EMAIL}]}),
        lambda: CustomerIoClient(SITE_ID, API_KEY).track_event(EMAIL, " ", {EMAIL: EMAIL}, event_id=EMAIL),
    ],
)
def test_validation_errors_never_echo_input_values(http_mock, caplog, call):
    with pytest.raises(VendorError) as caught:
        call()
    assert caught.value.__cause__ is None
    assert_clean(caught.value, caplog)
    assert http_mock.calls.call_count == 0


def test_successful_calls_log_route_templates_only(http_mock, caplog):
    answer(http_mock, 200)
    CustomerIoClient(SITE_ID, API_KEY).identify(EMAIL, {"email": EMAIL})
    assert "PUT /customers/{id} -> 200" in caplog.text
    for secret in FORBIDDEN:
        assert secret not in caplog.text


def test_httpx_request_log_lines_are_masked(http_mock, caplog):
    # Both paths name the person by email (URL-encoded), which httpx's own log line repeats.
    answer(http_mock, 200)
    CustomerIoClient(SITE_ID, API_KEY).identify(EMAIL, {})
    SegMetricsClient("acct1", "integ1", API_KEY).delete_contact(EMAIL)
    assert "HTTP Request: PUT" in caplog.text and "HTTP Request: DELETE" in caplog.text
    for secret in FORBIDDEN:
        assert secret not in caplog.text
