"""``before_request``: the delivery layer's pacer runs right before every HTTP request."""

from __future__ import annotations

import httpx
import pytest
import respx

from webhook_bridge.vendors.convertloop.client import ConvertLoopClient
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.exceptions import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    RequestValidationError,
)
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, APP_ID, SITE_ID, answer

LOOPS_UPDATE = "https://app.loops.so/api/v1/contacts/update"


class Hook:
    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.seen: list[int] = []  # requests already sent each time the hook ran

    def __call__(self) -> None:
        self.seen.append(self.router.calls.call_count)


def test_every_client_accepts_the_hook(http_mock):
    hook = Hook(http_mock)
    clients = [
        ConvertLoopClient(APP_ID, API_KEY, before_request=hook),
        LoopsClient(API_KEY, before_request=hook),
        CustomerIoClient(SITE_ID, API_KEY, before_request=hook),
        SegMetricsClient("acct1", "integ1", API_KEY, before_request=hook),
    ]
    assert all(client.before_request is hook for client in clients)


def test_the_hook_runs_once_right_before_each_request(http_mock):
    answer(http_mock, 200)
    hook = Hook(http_mock)
    client = LoopsClient(API_KEY, before_request=hook)
    client.update_contact({"email": "a@example.com"})
    client.update_contact({"email": "b@example.com"})
    assert hook.seen == [0, 1]
    assert http_mock.calls.call_count == 2


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(429, headers={"Retry-After": "1"}), RateLimitError),
        (httpx.Response(503), InternalServerError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ConnectError("refused"), APIConnectionError),
    ],
)
def test_the_hook_runs_for_failed_requests_too(http_mock, response, error):
    route = http_mock.put(LOOPS_UPDATE)
    if isinstance(response, Exception):
        route.side_effect = response
    else:
        route.mock(return_value=response)
    hook = Hook(http_mock)
    with pytest.raises(error):
        LoopsClient(API_KEY, before_request=hook).update_contact({"email": "a@example.com"})
    assert hook.seen == [0]


def test_no_hook_for_a_request_refused_before_sending(http_mock):
    hook = Hook(http_mock)
    with pytest.raises(RequestValidationError):
        LoopsClient(API_KEY, before_request=hook).update_contact({"firstName": "no identifier"})
    assert hook.seen == [] and http_mock.calls.call_count == 0


def test_a_hook_that_raises_sends_nothing(http_mock):
    answer(http_mock, 200)

    def refuse() -> None:
        raise TimeoutError("no token before the deadline")

    with pytest.raises(TimeoutError):
        LoopsClient(API_KEY, before_request=refuse).update_contact({"email": "a@example.com"})
    assert http_mock.calls.call_count == 0


def test_the_hook_can_be_set_on_an_existing_client(http_mock):
    answer(http_mock, 200)
    client = LoopsClient(API_KEY)
    client.update_contact({"email": "a@example.com"})
    hook = Hook(http_mock)
    client.before_request = hook
    client.update_contact({"email": "a@example.com"})
    assert hook.seen == [1]
