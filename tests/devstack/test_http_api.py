"""The HTTP API server: routing, API Gateway's own answers, and the body on the wire."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import httpx
import pytest

from devstack.functions import InvocationResult
from devstack.http_api import MAX_PAYLOAD_BYTES, HttpApi
from devstack.template import Route

ROUTES = [
    Route("POST", "/webhooks/stripe", "Stripe", "abc123defg"),
    Route("POST", "/webhooks/typeform", "Typeform", "abc123defg", timeout_ms=200),
]


def done(result: InvocationResult) -> Future[InvocationResult]:
    future: Future[InvocationResult] = Future()
    future.set_result(result)
    return future


def echo(function: str, event: dict[str, Any]) -> Future[InvocationResult]:
    """Answers with the event it got, like a handler that returns json.dumps(event)."""
    body = json.dumps({"function": function, "event": event})
    return done(InvocationResult("id", ok=True, payload={"statusCode": 200, "body": body}))


@pytest.fixture
def serve() -> Iterator[Callable[..., HttpApi]]:
    servers: list[HttpApi] = []

    def start(submit: Any = echo) -> HttpApi:
        api = HttpApi(ROUTES, submit, account_id="123456789012").start()
        servers.append(api)
        return api

    yield start
    for api in servers:
        api.stop()


def test_route_reaches_its_function_with_the_raw_body(serve: Callable[..., HttpApi]) -> None:
    api = serve()
    assert api.url.startswith("http://127.0.0.1:")  # loopback only
    body = b'{"id":"evt_1",  "object":"event", "name":"Ren\xc3\xa9e"}\n'
    headers = {
        "Stripe-Signature": "t=1700000000,v1=deadbeef,v0=cafe",
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    response = httpx.post(api.url + "/webhooks/stripe?x=1", content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["apigw-requestid"]
    received = response.json()
    event = received["event"]
    assert received["function"] == "Stripe"
    assert event["body"].encode() == body
    assert event["isBase64Encoded"] is False
    assert event["headers"]["stripe-signature"] == headers["Stripe-Signature"]
    assert event["rawQueryString"] == "x=1"
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]
    assert event["requestContext"]["apiId"] == "abc123defg"


def test_binary_body_arrives_base64(serve: Callable[..., HttpApi]) -> None:
    api = serve()
    body = bytes(range(256)) * 4
    response = httpx.post(
        api.url + "/webhooks/stripe", content=body, headers={"Content-Type": "application/octet-stream"}
    )
    event = response.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_chunked_body_is_read_completely(serve: Callable[..., HttpApi]) -> None:
    api = serve()
    chunks = [b'{"a": ', b'"' + b"x" * 5000 + b'"', b"}"]
    response = httpx.post(
        api.url + "/webhooks/stripe", content=iter(chunks), headers={"Content-Type": "application/json"}
    )
    assert response.json()["event"]["body"].encode() == b"".join(chunks)


def test_unknown_route_and_method_are_404(serve: Callable[..., HttpApi]) -> None:
    api = serve()
    for response in (httpx.post(api.url + "/nope"), httpx.get(api.url + "/webhooks/stripe")):
        assert response.status_code == 404
        assert response.content == b'{"message":"Not Found"}'


FAILED = InvocationResult("id", ok=False, error={"errorType": "ValueError", "errorMessage": "boom"})
INVALID = InvocationResult("id", ok=True, payload={"statusCode": "x"})
OVER_6_MB = InvocationResult(
    "id", ok=True, payload="x" * 6 * 1024 * 1024, payload_text='"' + "x" * 6 * 1024 * 1024 + '"'
)


@pytest.mark.parametrize(
    ("future", "path", "answer"),
    [
        (done(FAILED), "/webhooks/stripe", (500, {"message": "Internal Server Error"})),
        (done(INVALID), "/webhooks/stripe", (500, {"message": "Internal Server Error"})),
        (done(OVER_6_MB), "/webhooks/stripe", (500, {"message": "Internal Server Error"})),  # Lambda's result limit
        (Future(), "/webhooks/typeform", (503, {"message": "Service Unavailable"})),  # times out after 200 ms
    ],
    ids=["function-error", "invalid-response", "result-over-6-mb", "integration-timeout"],
)
def test_api_gateways_own_answers(
    serve: Callable[..., HttpApi], future: Future[InvocationResult], path: str, answer: tuple[int, Any]
) -> None:
    api = serve(lambda function, event: future)
    response = httpx.post(api.url + path, content=b"{}")
    assert (response.status_code, response.json()) == answer


def test_payload_over_10_mb_is_413_without_invoking(serve: Callable[..., HttpApi]) -> None:
    calls: list[str] = []

    def submit(function: str, event: dict[str, Any]) -> Future[InvocationResult]:
        calls.append(function)
        return echo(function, event)

    api = serve(submit)
    # Chunked, so the server has to count what it reads (a declared length is refused up front, below).
    chunks = [b"x" * (1024 * 1024)] * (MAX_PAYLOAD_BYTES // (1024 * 1024)) + [b"x"]
    response = httpx.post(api.url + "/webhooks/stripe", content=iter(chunks))
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert calls == []


def test_declared_oversize_is_refused_before_the_body_is_sent(serve: Callable[..., HttpApi]) -> None:
    api = serve()
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as connection:
        connection.sendall(
            b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_PAYLOAD_BYTES + 1)
        )
        status_line = connection.makefile("rb").readline()
    assert b" 413 " in status_line
