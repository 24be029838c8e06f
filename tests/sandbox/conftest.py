"""A started sandbox on a free port, with a manual clock, and an httpx client per vendor."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.sandbox import ManualClock, SandboxCredentials, SandboxServer


@pytest.fixture(scope="session")
def tls() -> ssl.SSLContext:
    # The sandbox is plain HTTP, but every httpx.Client builds a TLS context on creation,
    # which costs tens of milliseconds; one shared context keeps the suite fast.
    return ssl.create_default_context()


@pytest.fixture
def client_factory(tls: ssl.SSLContext) -> Any:
    def make(**kwargs: Any) -> httpx.Client:
        return httpx.Client(verify=tls, timeout=5, **kwargs)

    return make


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


@pytest.fixture
def http(client_factory: Any, sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """Client rooted at the sandbox itself (for /_sandbox)."""
    with client_factory(base_url=sandbox.url) as client:
        yield client


@pytest.fixture
def convertloop(client_factory: Any, sandbox: SandboxServer, creds: SandboxCredentials) -> Iterator[httpx.Client]:
    auth = (creds.convertloop_app_id, creds.convertloop_api_key)
    with client_factory(base_url=sandbox.base_urls()["CONVERTLOOP_BASE_URL"], auth=auth) as client:
        yield client


@pytest.fixture
def loops(client_factory: Any, sandbox: SandboxServer, creds: SandboxCredentials) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {creds.loops_api_key}"}
    with client_factory(base_url=sandbox.base_urls()["LOOPS_BASE_URL"], headers=headers) as client:
        yield client


@pytest.fixture
def customerio(client_factory: Any, sandbox: SandboxServer, creds: SandboxCredentials) -> Iterator[httpx.Client]:
    auth = (creds.customerio_site_id, creds.customerio_api_key)
    with client_factory(base_url=sandbox.base_urls()["CUSTOMERIO_BASE_URL"], auth=auth) as client:
        yield client


@pytest.fixture
def segmetrics(client_factory: Any, sandbox: SandboxServer, creds: SandboxCredentials) -> Iterator[httpx.Client]:
    """Rooted at /{account}/{integration}/, as the real client would build it."""
    base = (
        f"{sandbox.base_urls()['SEGMETRICS_BASE_URL']}/{creds.segmetrics_account_id}/{creds.segmetrics_integration_id}"
    )
    headers = {"Authorization": creds.segmetrics_api_key}
    with client_factory(base_url=base, headers=headers) as client:
        yield client


@pytest.fixture
def reporting(client_factory: Any, sandbox: SandboxServer, creds: SandboxCredentials) -> Iterator[httpx.Client]:
    base = f"{sandbox.base_urls()['SEGMETRICS_REPORTING_BASE_URL']}/{creds.segmetrics_account_id}"
    headers = {"Authorization": creds.segmetrics_api_key}
    with client_factory(base_url=base, headers=headers) as client:
        yield client


@pytest.fixture
def raw(client_factory: Any, sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client with no base URL and no credentials (one client: creating one per call is slow)."""
    with client_factory() as client:
        yield client
