"""Configuration names, one cached client per vendor, and the delivery entry point."""

from __future__ import annotations

import pytest

from webhook_bridge.secrets import MissingSecretError
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.catalog import Vendor, specs, vendors
from webhook_bridge.vendors.convertloop.client import ConvertLoopClient
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.exceptions import AuthenticationError
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, answer, json_body, only_request
from .fixtures_actions import identify_action, invoice_action, refund_action, track_action

CONFIG = {
    "CONVERTLOOP_APP_ID": "cl-app",
    "CONVERTLOOP_API_KEY": API_KEY,
    "LOOPS_API_KEY": API_KEY,
    "CUSTOMERIO_SITE_ID": "cio-site",
    "CUSTOMERIO_API_KEY": API_KEY,
    "SEGMETRICS_ACCOUNT_ID": "acct1",
    "SEGMETRICS_INTEGRATION_ID": "integ1",
    "SEGMETRICS_API_KEY": API_KEY,
}


@pytest.fixture(autouse=True)
def configured(monkeypatch):
    monkeypatch.delenv("SECRET_ID", raising=False)
    for name in (name for spec in specs() for name in spec.base_urls):
        monkeypatch.delenv(name, raising=False)
    for name, value in CONFIG.items():
        monkeypatch.setenv(name, value)
    registry.forget_client()
    yield
    registry.forget_client()
    for vendor in vendors():
        registry.set_request_hook(vendor, None)


@pytest.mark.parametrize(
    ("vendor", "client_class", "base_url"),
    [
        (Vendor("convertloop"), ConvertLoopClient, "https://api.convertloop.co/v1"),
        (Vendor("loops"), LoopsClient, "https://app.loops.so/api/v1"),
        (Vendor("customerio"), CustomerIoClient, "https://track.customer.io/api/v1"),
        (Vendor("segmetrics"), SegMetricsClient, "https://import.segmetrics.io/api/v1"),
    ],
)
def test_build_client_with_documented_defaults(vendor, client_class, base_url):
    client = registry.build_client(vendor)
    assert type(client) is client_class
    assert client.base_url == base_url


def test_base_urls_come_from_the_environment(monkeypatch, http_mock):
    monkeypatch.setenv("CONVERTLOOP_BASE_URL", "http://127.0.0.1:3001/convertloop/v1")
    monkeypatch.setenv("LOOPS_BASE_URL", "http://127.0.0.1:3001/loops/api/v1")
    monkeypatch.setenv("CUSTOMERIO_BASE_URL", "https://track-eu.customer.io/api/v1")
    monkeypatch.setenv("SEGMETRICS_BASE_URL", "http://127.0.0.1:3001/segmetrics/api/v1")
    assert registry.build_client(Vendor("convertloop")).base_url == "http://127.0.0.1:3001/convertloop/v1"
    assert registry.build_client(Vendor("loops")).base_url == "http://127.0.0.1:3001/loops/api/v1"
    assert registry.build_client(Vendor("customerio")).base_url == "https://track-eu.customer.io/api/v1"
    segmetrics = registry.build_client(Vendor("segmetrics"))
    assert isinstance(segmetrics, SegMetricsClient)
    assert segmetrics.base_url == "http://127.0.0.1:3001/segmetrics/api/v1"


def test_missing_credentials_raise_missing_secret(monkeypatch):
    monkeypatch.delenv("LOOPS_API_KEY")
    with pytest.raises(MissingSecretError) as caught:
        registry.build_client(Vendor("loops"))
    assert caught.value.name == "LOOPS_API_KEY"


def test_one_client_per_vendor_per_process():
    first = registry.get_client(Vendor("loops"))
    assert registry.get_client(Vendor("loops")) is first
    assert registry.get_client(Vendor("customerio")) is not first


@pytest.mark.parametrize(
    ("vendor", "action", "method", "url"),
    [
        (Vendor("convertloop"), track_action(), "POST", "https://api.convertloop.co/v1/event_logs"),
        (Vendor("loops"), identify_action(), "PUT", "https://app.loops.so/api/v1/contacts/update"),
        (
            Vendor("customerio"),
            track_action(),
            "POST",
            "https://track.customer.io/api/v1/customers/jane.doe%40example.com/events",
        ),
        (Vendor("segmetrics"), refund_action(), "POST", "https://import.segmetrics.io/api/v1/acct1/integ1/invoice"),
    ],
)
def test_deliver_routes_to_the_vendor_adapter(http_mock, vendor, action, method, url):
    answer(http_mock, 200, json={"success": True})

    result = registry.deliver(vendor, action, "idem-1")

    request = only_request(http_mock)
    assert (request.method, str(request.url)) == (method, url)
    assert json_body(request)
    assert result.vendor == vendor.value and result.calls


def test_deliver_passes_the_idempotency_key_to_loops(http_mock):
    answer(http_mock, 200)
    registry.deliver(Vendor("loops"), track_action(), "idem-42")
    assert only_request(http_mock).headers["idempotency-key"] == "idem-42"


def test_an_auth_failure_drops_the_cached_client_so_rotated_keys_are_read(http_mock, monkeypatch):
    answer(http_mock, 401, json={"message": "Invalid API key"})
    first = registry.get_client(Vendor("loops"))
    with pytest.raises(AuthenticationError):
        registry.deliver(Vendor("loops"), track_action(), "idem-1")
    monkeypatch.setenv("LOOPS_API_KEY", "rotated-key-123")
    second = registry.get_client(Vendor("loops"))
    assert second is not first
    http_mock.routes.clear()
    answer(http_mock, 200)
    registry.deliver(Vendor("loops"), track_action(), "idem-1")
    assert http_mock.calls.last.request.headers["authorization"] == "Bearer rotated-key-123"


INVOICE_PAID_CALLS = {
    Vendor("convertloop"): [
        ("POST", "https://api.convertloop.co/v1/people"),
        ("POST", "https://api.convertloop.co/v1/event_logs"),
    ],
    Vendor("loops"): [
        ("PUT", "https://app.loops.so/api/v1/contacts/update"),
        ("POST", "https://app.loops.so/api/v1/events/send"),
    ],
    Vendor("customerio"): [
        ("PUT", "https://track.customer.io/api/v1/customers/jane.doe%40example.com"),
        ("POST", "https://track.customer.io/api/v1/customers/jane.doe%40example.com/events"),
    ],
    Vendor("segmetrics"): [
        ("POST", "https://import.segmetrics.io/api/v1/acct1/integ1/contact"),
        ("POST", "https://import.segmetrics.io/api/v1/acct1/integ1/invoice"),
    ],
}


@pytest.mark.parametrize("vendor", list(INVOICE_PAID_CALLS))
def test_an_action_that_identifies_and_tracks_is_two_calls_identify_first(http_mock, vendor):
    answer(http_mock, 200, json={"success": True})
    result = registry.deliver(vendor, invoice_action(), "idem-1")
    assert [(c.request.method, str(c.request.url)) for c in http_mock.calls] == INVOICE_PAID_CALLS[vendor]
    assert len(result.calls) == 2


# -- request hook (the delivery layer's pacer) ---------------------------------------------


class CountingHook:
    def __init__(self, router=None):
        self.count = 0
        self.router = router
        self.requests_before: list[int] = []

    def __call__(self) -> None:
        self.count += 1
        if self.router is not None:  # how many requests had been sent when the hook ran
            self.requests_before.append(self.router.calls.call_count)


def hook_on(vendor: str, router=None) -> CountingHook:
    """A counting hook on ``vendor``'s clients (the autouse fixture removes it)."""
    hook = CountingHook(router)
    registry.set_request_hook(Vendor(vendor), hook)
    return hook


def test_the_hook_runs_before_each_request_of_a_multi_call_delivery(http_mock):
    answer(http_mock, 200)
    hook = hook_on("loops", http_mock)

    registry.deliver(Vendor("loops"), invoice_action(), "idem-1")

    assert http_mock.calls.call_count == 2
    assert hook.requests_before == [0, 1]  # once per request, each time right before it


def test_the_hook_applies_to_an_already_cached_client(http_mock):
    answer(http_mock, 200)
    cached = registry.get_client(Vendor("convertloop"))
    hook = hook_on("convertloop")
    assert registry.get_client(Vendor("convertloop")) is cached
    registry.deliver(Vendor("convertloop"), track_action(), "idem-1")
    assert hook.count == 1


def test_the_hook_is_per_vendor(http_mock):
    answer(http_mock, 200)
    hook = hook_on("loops")
    registry.deliver(Vendor("customerio"), invoice_action(), "idem-1")
    registry.deliver(Vendor("segmetrics"), invoice_action(), "idem-1")
    assert http_mock.calls.call_count == 4 and hook.count == 0


def test_the_hook_counts_failed_requests_and_survives_a_rebuilt_client(http_mock, monkeypatch):
    answer(http_mock, 401, json={"message": "Invalid API key"})
    hook = hook_on("loops")
    with pytest.raises(AuthenticationError):
        registry.deliver(Vendor("loops"), track_action(), "idem-1")
    assert hook.count == 1
    # the auth failure dropped the cached client; the rebuilt one keeps the hook
    monkeypatch.setenv("LOOPS_API_KEY", "rotated-key-123")
    http_mock.routes.clear()
    answer(http_mock, 200)
    registry.deliver(Vendor("loops"), track_action(), "idem-1")
    assert hook.count == 2


def test_built_clients_get_the_hook_and_none_removes_it(http_mock):
    answer(http_mock, 200)
    hook = hook_on("segmetrics")
    assert registry.build_client(Vendor("segmetrics")).before_request is hook
    cached = registry.get_client(Vendor("segmetrics"))
    registry.set_request_hook(Vendor("segmetrics"), None)
    assert cached.before_request is None
    assert registry.build_client(Vendor("segmetrics")).before_request is None
    registry.deliver(Vendor("segmetrics"), invoice_action(), "idem-1")
    assert hook.count == 0
