"""Each vendor's documented credentials: Basic app/site id and key, a Bearer key, a raw key."""

from __future__ import annotations

import base64

import httpx
import pytest

from devstack.sandbox import SandboxServer
from tests.sandbox.conftest import answers

ENDPOINTS = {  # vendor setting: method, path, the fields of its 401
    "CONVERTLOOP": ("POST", "/people", {"success": False}),
    "LOOPS": ("PUT", "/contacts/update", {"success": False}),
    "CUSTOMERIO": ("PUT", "/customers/5", {"meta": {"error": "Unauthorized request"}}),
    "SEGMETRICS": ("POST", "/sandbox-account/sandbox-integration/contact", {"status": "error"}),
}


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


@pytest.mark.parametrize(
    ("vendor", "authorization", "status"),
    [
        ("CONVERTLOOP", basic("sandbox-app", "sandbox-convertloop-key"), 200),
        ("CONVERTLOOP", None, 401),
        ("CONVERTLOOP", basic("sandbox-app", "wrong"), 401),
        ("CONVERTLOOP", basic("wrong", "sandbox-convertloop-key"), 401),
        ("CONVERTLOOP", "Bearer sandbox-app", 401),  # a Bearer token is not Basic auth
        ("LOOPS", "Bearer sandbox-loops-key", 200),
        ("LOOPS", None, 401),
        ("LOOPS", "Bearer nope", 401),
        ("LOOPS", "sandbox-loops-key", 401),
        ("CUSTOMERIO", basic("sandbox-site", "sandbox-customerio-key"), 200),
        ("CUSTOMERIO", None, 401),
        ("CUSTOMERIO", basic("sandbox-site", "wrong"), 401),
        ("CUSTOMERIO", basic("other-site", "sandbox-customerio-key"), 401),
        ("SEGMETRICS", "sandbox-segmetrics-key", 200),  # the raw key, no scheme
        ("SEGMETRICS", None, 401),
        ("SEGMETRICS", "wrong", 401),
        ("SEGMETRICS", "Bearer sandbox-segmetrics-key", 401),
    ],
)
def test_only_the_documented_credentials_pass(
    raw: httpx.Client, sandbox: SandboxServer, vendor: str, authorization: str | None, status: int
) -> None:
    method, path, refusal = ENDPOINTS[vendor]
    url = sandbox.base_urls()[f"{vendor}_BASE_URL"] + path
    headers = {"Authorization": authorization} if authorization else {}
    answers(
        raw.request(method, url, json={"email": "a@example.com"}, headers=headers),
        status,
        refusal if status == 401 else None,
    )
