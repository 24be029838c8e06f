"""One configured client per vendor per process, and the single entry point of delivery.

Configuration names are the ones each vendor's spec declares (and the README's configuration
table lists): credentials and ids through :func:`webhook_bridge.secrets.get_secret_value`
(environment locally, Secrets Manager on AWS), API roots from the environment with the
documented defaults. Only the client and adapter of the vendor being delivered are imported,
which keeps a delivery function's cold start small.

:func:`set_request_hook` gives a vendor's clients a callable run right before each HTTP
request (the delivery layer's rate-limit pacer): one action may need two requests, and
each one must be paced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, cast

import httpx

from webhook_bridge.actions import Action
from webhook_bridge.secrets import forget_cached_secrets, get_secret_value
from webhook_bridge.settings import environment_value
from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.catalog import Vendor, VendorSpec
from webhook_bridge.vendors.exceptions import AuthenticationError
from webhook_bridge.vendors.results import DeliveryResult

RequestHook = Callable[[], object]

_clients: dict[Vendor, BaseClient] = {}
_request_hooks: dict[Vendor, RequestHook] = {}
_clients_lock = threading.Lock()


class _Adapter(Protocol):
    def deliver(self, action: Action, client: Any, *, idempotency_key: str | None = None) -> DeliveryResult: ...


def _secret(name: str) -> str:
    value = get_secret_value(name)
    assert value is not None  # required=True raises MissingSecretError instead of returning None
    return value


def configuration(spec: VendorSpec, secret: Callable[[str], str] = _secret) -> dict[str, str]:
    """The vendor's credentials (``secret``) and API roots (environment, else the documented default)."""
    values = {name: secret(name) for name in spec.secret_keys}
    values.update({name: environment_value(name) or default for name, default in spec.base_urls.items()})
    return values


def build_client(vendor: Vendor) -> BaseClient:
    """A new client for ``vendor`` from configuration (``MissingSecretError`` when unset),
    with the vendor's request hook, if one is set."""
    client = _build_client(vendor)
    client.before_request = _request_hooks.get(vendor)
    return client


def _build_client(
    vendor: Vendor, secret: Callable[[str], str] = _secret, http: httpx.Client | None = None
) -> BaseClient:
    """``secret`` and ``http`` are for ``bridgectl preview``: placeholder credentials, no network."""
    spec = vendor.spec
    return cast(BaseClient, spec.module("client").from_configuration(configuration(spec, secret), http))


def offline_client(vendor: Vendor, http: httpx.Client) -> BaseClient:
    """A client that sends through ``http`` (e.g. an ``httpx.MockTransport``), with placeholder credentials."""
    return _build_client(vendor, secret=lambda name: f"preview-{name.lower()}", http=http)


def get_client(vendor: Vendor) -> BaseClient:
    """The process's client for ``vendor``, built on first use."""
    client = _clients.get(vendor)
    if client is None:
        with _clients_lock:
            client = _clients.get(vendor)
            if client is None:
                client = _clients[vendor] = build_client(vendor)
    return client


def set_request_hook(vendor: Vendor, hook: RequestHook | None) -> None:
    """Call ``hook()`` right before every HTTP request of ``vendor``'s registry clients.

    Applies to the cached client, if any, and to every client built afterwards (also
    after :func:`forget_client`). ``None`` removes the hook.
    """
    with _clients_lock:
        if hook is None:
            _request_hooks.pop(vendor, None)
        else:
            _request_hooks[vendor] = hook
        client = _clients.get(vendor)
        if client is not None:
            client.before_request = hook


def forget_client(vendor: Vendor | None = None) -> None:
    """Drop cached clients (all when ``vendor`` is None) so configuration is read again.

    Request hooks are kept: they are the process's pacing, not configuration."""
    with _clients_lock:
        if vendor is None:
            _clients.clear()
        else:
            _clients.pop(vendor, None)


def adapter(vendor: Vendor) -> _Adapter:
    return cast(_Adapter, vendor.spec.module("adapter"))


def deliver(vendor: Vendor, action: Action, idempotency_key: str) -> DeliveryResult:
    """Make ``vendor``'s calls for ``action``: one attempt, errors from the vendor error tree.

    ``idempotency_key`` must be the same on every retry of this (vendor, action), e.g.
    ``VendorMessage.idempotency_token``. A returned result with ``duplicate`` set means the
    vendor had already done it; raising means the delivery layer decides on a retry.
    """
    client = get_client(vendor)
    try:
        return adapter(vendor).deliver(action, client, idempotency_key=idempotency_key)
    except AuthenticationError:
        # Keys may have been rotated in Secrets Manager: the next attempt reads them afresh,
        # past the 5-minute cache, and the delivery layer retries on its normal schedule.
        forget_client(vendor)
        forget_cached_secrets()
        raise
