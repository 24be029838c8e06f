"""A started sandbox on a free port, with a manual clock, and an httpx client per vendor."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.sandbox import ManualClock, SandboxCredentials, SandboxServer

Body = dict[str, Any] | bytes | None


def send(client: httpx.Client, method: str, path: str, body: Body = None, **options: Any) -> httpx.Response:
    """``body`` as JSON, or as raw bytes (what a JSON object is not)."""
    if isinstance(body, bytes):
        return client.request(method, path, content=body, headers={"Content-Type": "application/json"}, **options)
    return client.request(method, path, json=body, **options)


def answers(response: httpx.Response, status: int, fields: dict[str, Any] | None = None) -> None:
    """The response has ``status`` and, when given, these top-level JSON ``fields``."""
    assert response.status_code == status, response.text
    if fields is not None:
        assert fields.items() <= response.json().items(), response.text


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    # The sandbox is plain HTTP, but every httpx.Client builds a TLS context on creation,
    # which costs tens of milliseconds; one shared context keeps the suite fast.
    return ssl.create_default_context()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[SandboxServer]:
    with SandboxServer(port=0, clock=clock) as server:
        yield server


@pytest.fixture
def creds(sandbox: SandboxServer) -> SandboxCredentials:
    return sandbox.credentials


Connect = Callable[..., httpx.Client]


@pytest.fixture
def connect(tls: ssl.SSLContext, sandbox: SandboxServer) -> Iterator[Connect]:
    """``connect(setting, path, **options)``: a client rooted at the sandbox's URL for a vendor
    setting (the sandbox itself when None) plus ``path``, closed with the test."""
    with contextlib.ExitStack() as clients:

        def connect(setting: str | None = None, path: str = "", **options: Any) -> httpx.Client:
            base_url = (sandbox.base_urls()[setting] if setting else sandbox.url) + path
            return clients.enter_context(httpx.Client(verify=tls, timeout=5, base_url=base_url, **options))

        yield connect


@pytest.fixture
def http(connect: Connect) -> httpx.Client:
    """Client rooted at the sandbox itself (for /_sandbox)."""
    return connect()


@pytest.fixture
def convertloop(connect: Connect, creds: SandboxCredentials) -> httpx.Client:
    return connect("CONVERTLOOP_BASE_URL", auth=(creds.convertloop_app_id, creds.convertloop_api_key))


@pytest.fixture
def loops(connect: Connect, creds: SandboxCredentials) -> httpx.Client:
    return connect("LOOPS_BASE_URL", headers={"Authorization": f"Bearer {creds.loops_api_key}"})


@pytest.fixture
def customerio(connect: Connect, creds: SandboxCredentials) -> httpx.Client:
    return connect("CUSTOMERIO_BASE_URL", auth=(creds.customerio_site_id, creds.customerio_api_key))


@pytest.fixture
def segmetrics(connect: Connect, creds: SandboxCredentials) -> httpx.Client:
    """Rooted at /{account}/{integration}/, as the real client would build it."""
    path = f"/{creds.segmetrics_account_id}/{creds.segmetrics_integration_id}"
    return connect("SEGMETRICS_BASE_URL", path, headers={"Authorization": creds.segmetrics_api_key})


@pytest.fixture
def raw(tls: ssl.SSLContext) -> Iterator[httpx.Client]:
    """A client with no base URL and no credentials (one client: creating one per call is slow)."""
    with httpx.Client(verify=tls, timeout=5) as client:
        yield client
