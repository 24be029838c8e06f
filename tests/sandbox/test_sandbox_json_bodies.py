"""ConvertLoop, Loops and SegMetrics document JSON bodies: a form, or JSON under another
content type, is refused with the vendor's own client error, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from devstack.sandbox import SandboxServer

Send = Callable[[httpx.Client, str, str, dict[str, Any]], httpx.Response]

# (vendor fixture, path, a body the vendor accepts as JSON, the status of its refusal)
ENDPOINTS = [
    ("convertloop", "/people", {"email": "ann@example.com"}, 422),
    ("loops", "/contacts/update", {"email": "ann@example.com"}, 400),
    ("segmetrics", "/contact", {"email": "ann@example.com"}, 400),
]


@pytest.mark.parametrize(("vendor", "path", "body", "status"), ENDPOINTS)
@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda client, method, path, body: client.request(method, path, data=body), id="form"),
        pytest.param(
            lambda client, method, path, body: client.request(
                method, path, json=body, headers={"Content-Type": "text/plain"}
            ),
            id="json-as-text",
        ),
        pytest.param(
            lambda client, method, path, body: client.request(
                method, path, data=body, headers={"Content-Type": "application/json"}
            ),
            id="form-as-json",
        ),
    ],
)
def test_a_body_that_is_not_json_is_refused(
    request: pytest.FixtureRequest,
    sandbox: SandboxServer,
    vendor: str,
    path: str,
    body: dict[str, Any],
    status: int,
    send: Send,
) -> None:
    client: httpx.Client = request.getfixturevalue(vendor)
    method = "PUT" if vendor == "loops" else "POST"
    assert send(client, method, path, body).status_code == status
    assert client.request(method, path, json=body).status_code == 200  # the same fields, as JSON
    assert sum(len(rows) for rows in sandbox.state(vendor).values()) == 1
