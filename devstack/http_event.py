"""API Gateway HTTP API (payload format 2.0): request → Lambda event, Lambda result → response.

Pure functions, independent of the web server, so the exact shapes can be tested.
The rules follow API Gateway's documentation for HTTP APIs:

- header names are lowercased, repeated headers are joined with commas, and the
  ``cookie`` headers move to ``cookies``;
- repeated query parameters are joined with commas in ``queryStringParameters``;
- the body is passed as text when the content type is textual (text/*, JSON, XML,
  JavaScript) and valid UTF-8, otherwise base64-encoded with ``isBase64Encoded``;
  either way its bytes reach the function unchanged (signatures depend on it);
- a result with ``statusCode`` is taken field by field; any other valid JSON result
  is a 200 ``application/json`` response whose body is that JSON.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from devstack.template import Route

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = {"application/json", "application/javascript", "application/xml", "application/ecmascript"}


@dataclass(frozen=True)
class HttpRequest:
    """What the server received, before any interpretation."""

    method: str
    raw_path: str  # as sent, still percent-encoded
    raw_query: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # in order, repeated names allowed
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    scheme: str = "http"
    server_port: int = 80


@dataclass(frozen=True)
class ApiContext:
    """Who "API Gateway" is for this request."""

    api_id: str
    account_id: str
    request_id: str
    time_epoch_ms: int = field(default_factory=lambda: int(time.time() * 1000))


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class InvalidLambdaResponse(ValueError):
    """API Gateway answers 500 when the function's result cannot be a response."""


def new_request_id() -> str:
    """Shaped like API Gateway's HTTP API request ids (e.g. ``JKJaXmPLvHcESHA=``)."""
    return base64.b64encode(os.urandom(11)).decode()


def is_text_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


def build_event(request: HttpRequest, route: Route, context: ApiContext) -> dict[str, Any]:
    headers, cookies = _event_headers(request, context)
    epoch = context.time_epoch_ms
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    host = headers.get("host", "localhost").split(",")[0]
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    event["requestContext"] = {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": unquote(request.raw_path),
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": context.request_id,
        "routeKey": route.route_key,
        "stage": "$default",  # no named stages: the URL has no stage prefix
        "time": _clf_time(epoch),
        "timeEpoch": epoch,
    }
    if request.body:
        body, encoded = encode_body(request.body, headers.get("content-type"))
        event["body"] = body
        event["isBase64Encoded"] = encoded
    else:
        event["isBase64Encoded"] = False
    return event


def encode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """Text stays text; anything else (or text that is not UTF-8) is base64, so no byte changes."""
    if is_text_content_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _event_headers(request: HttpRequest, context: ApiContext) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    # What API Gateway adds in front of every integration.
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-port"] = str(request.server_port)
    headers["x-forwarded-proto"] = request.scheme
    headers.setdefault("x-amzn-trace-id", _trace_id(context.time_epoch_ms))
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _clf_time(epoch_ms: int) -> str:
    # Not strftime("%b"): month names must not depend on the machine's locale.
    t = time.gmtime(epoch_ms / 1000)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def _trace_id(epoch_ms: int) -> str:
    return f"Root=1-{epoch_ms // 1000:08x}-{os.urandom(12).hex()}"


# -- responses -------------------------------------------------------------------------


def to_http_response(payload: Any, payload_text: str | None = None) -> HttpResponse:
    """Interpret a function's result as API Gateway does for payload format 2.0."""
    if not (isinstance(payload, dict) and "statusCode" in payload):
        if isinstance(payload, str):
            body = payload
        else:
            body = payload_text if payload_text is not None else json.dumps(payload)
        return HttpResponse(200, (("content-type", "application/json"),), body.encode())
    status = _status(payload["statusCode"])
    headers = [(str(name), _header_value(value)) for name, value in (payload.get("headers") or {}).items()]
    cookies = payload.get("cookies") or []
    if not isinstance(cookies, list):
        raise InvalidLambdaResponse("cookies must be a list of strings")
    headers.extend(("set-cookie", str(cookie)) for cookie in cookies)
    return HttpResponse(status, tuple(headers), _body(payload))


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidLambdaResponse(f"statusCode must be an integer, got {value!r}")
    try:
        status = int(value)
    except ValueError:
        raise InvalidLambdaResponse(f"statusCode must be an integer, got {value!r}") from None
    if not 100 <= status <= 599:
        raise InvalidLambdaResponse(f"statusCode {status} is not an HTTP status")
    return status


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise InvalidLambdaResponse(f"header values must be strings, got {value!r}")


def _body(payload: Mapping[str, Any]) -> bytes:
    body = payload.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidLambdaResponse("body must be a string (serialise JSON yourself)")
    if payload.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as error:
            raise InvalidLambdaResponse(f"isBase64Encoded but the body is not base64: {error}") from error
    return body.encode("utf-8")


def error_response(status: int, message: str, request_id: str, extra: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    """API Gateway's own answers, e.g. 404 ``{"message":"Not Found"}``."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    headers = (("content-type", "application/json"), ("apigw-requestid", request_id), *extra)
    return HttpResponse(status, headers, body)
