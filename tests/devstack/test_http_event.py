"""Payload format 2.0: the event a function receives and how its result becomes a response."""

from __future__ import annotations

import base64
import json
import re

import pytest

from devstack.http_event import (
    ApiContext,
    HttpRequest,
    HttpResponse,
    InvalidLambdaResponse,
    build_event,
    encode_body,
    is_text_content_type,
    to_http_response,
)
from devstack.template import Route

ROUTE = Route("POST", "/webhooks/stripe", "StripeWebhookFunction", "abc123defg")
CONTEXT = ApiContext(
    api_id="abc123defg", account_id="123456789012", request_id="Req1dExample=", time_epoch_ms=1_583_348_638_390
)
STRIPE_BODY = (
    b'{\n  "id": "evt_1",\n  "object": "event",\n  "data": {"object": {"name": "Ren\xc3\xa9e \xe2\x9c\x93"}}\n}'
)


def request(**overrides: object) -> HttpRequest:
    values: dict[str, object] = {
        "method": "POST",
        "raw_path": "/webhooks/stripe",
        "headers": (("Host", "127.0.0.1:3000"), ("Content-Type", "application/json; charset=utf-8")),
        "body": STRIPE_BODY,
        "source_ip": "127.0.0.1",
        "server_port": 3000,
    }
    values.update(overrides)
    return HttpRequest(**values)  # type: ignore[arg-type]


def test_event_shape() -> None:
    event = build_event(request(raw_query="a=1&a=2&b="), ROUTE, CONTEXT)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/stripe"
    assert event["rawPath"] == "/webhooks/stripe"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["isBase64Encoded"] is False
    assert "pathParameters" not in event and "cookies" not in event
    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "abc123defg"
    assert context["domainName"] == "127.0.0.1"
    assert context["http"] == {
        "method": "POST",
        "path": "/webhooks/stripe",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert context["requestId"] == "Req1dExample="
    assert context["routeKey"] == "POST /webhooks/stripe"
    assert context["stage"] == "$default"
    assert context["time"] == "04/Mar/2020:19:03:58 +0000"
    assert context["timeEpoch"] == 1_583_348_638_390
    json.dumps(event)  # it must travel as JSON


def test_headers_are_lowercased_and_repeated_ones_comma_joined() -> None:
    headers = (
        ("Host", "localhost:3000"),
        ("Stripe-Signature", "t=1,v1=abc"),
        ("X-Custom", "one"),
        ("x-custom", "two"),
        ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
    )
    event = build_event(request(headers=headers), ROUTE, CONTEXT)
    assert event["headers"]["stripe-signature"] == "t=1,v1=abc"
    assert event["headers"]["x-custom"] == "one,two"
    assert all(name == name.lower() for name in event["headers"])
    assert event["requestContext"]["http"]["userAgent"].startswith("Stripe/1.0")
    # What API Gateway adds in front of the integration.
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["x-forwarded-port"] == "3000"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", event["headers"]["x-amzn-trace-id"])


def test_cookies_move_out_of_the_headers() -> None:
    event = build_event(request(headers=(("Cookie", "a=1; b=2"), ("Cookie", "c=3"))), ROUTE, CONTEXT)
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_forwarded_for_is_appended_to() -> None:
    event = build_event(request(headers=(("X-Forwarded-For", "203.0.113.9"),)), ROUTE, CONTEXT)
    assert event["headers"]["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"


def test_json_body_reaches_the_function_byte_for_byte() -> None:
    event = build_event(request(), ROUTE, CONTEXT)
    assert event["isBase64Encoded"] is False
    assert event["body"].encode("utf-8") == STRIPE_BODY  # whitespace, key order, unicode untouched


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        *((t, bytes(range(256))) for t in (None, "application/octet-stream", "application/x-www-form-urlencoded")),
        *((t, bytes(range(256))) for t in ("image/png", "multipart/form-data; b=x")),
        ("application/json", b'{"name": "Ren\xe9e"}'),  # text that is not UTF-8 (latin-1): no byte may change
    ],
)
def test_non_text_bodies_are_base64(content_type: str | None, body: bytes) -> None:
    headers = (("Content-Type", content_type),) if content_type else ()
    event = build_event(request(headers=headers, body=body), ROUTE, CONTEXT)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_empty_body_is_absent() -> None:
    event = build_event(request(method="GET", body=b""), ROUTE, CONTEXT)
    assert "body" not in event
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/plain", True),
        ("application/vnd.api+json", True),
        ("application/xml", True),
        ("application/x-www-form-urlencoded", False),
        ("application/octet-stream", False),
        ("", False),
    ],
)
def test_text_content_types(content_type: str, text: bool) -> None:
    assert is_text_content_type(content_type) is text
    assert encode_body(b"abc", content_type)[1] is not text


def test_the_raw_path_stays_encoded_and_the_http_path_is_decoded() -> None:
    event = build_event(request(raw_path="/webhooks/a%20b"), ROUTE, CONTEXT)
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == ("/webhooks/a%20b", "/webhooks/a b")


# -- responses -------------------------------------------------------------------------


def test_structured_response() -> None:
    response = to_http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Count": 3},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"ok": true}',
        }
    )
    assert response.status == 201
    assert ("Content-Type", "application/json") in response.headers
    assert ("X-Count", "3") in response.headers
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1; Path=/", "b=2"]
    assert response.body == b'{"ok": true}'


JSON = ("content-type", "application/json")


@pytest.mark.parametrize(
    ("payload", "text", "status", "headers", "body"),
    [
        ({"statusCode": 200, "body": "AP8=", "isBase64Encoded": True}, None, 200, (), b"\x00\xff"),
        ({"message": "Hello"}, '{"message": "Hello"}', 200, (JSON,), b'{"message": "Hello"}'),  # no statusCode
        ("Hello from Lambda!", '"Hello from Lambda!"', 200, (JSON,), b"Hello from Lambda!"),  # a string is the body
        ({"statusCode": 204}, None, 204, (), b""),
    ],
    ids=["base64-body", "json-200", "string", "no-body"],
)
def test_results_become_responses(payload: object, text: str | None, status: int, headers: tuple, body: bytes) -> None:
    assert to_http_response(payload, text) == HttpResponse(status, headers, body)


@pytest.mark.parametrize(
    "payload",
    [
        {"statusCode": "abc"},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_invalid_responses(payload: dict[str, object]) -> None:
    with pytest.raises(InvalidLambdaResponse):
        to_http_response(payload)
