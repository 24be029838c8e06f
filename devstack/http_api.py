"""The template's HTTP API on 127.0.0.1: routes → functions, like API Gateway would.

Routes are a method and a literal path (``devstack.template`` refuses the rest), so a
request's method and path select one route or none. Gateway-generated answers match API Gateway's:
404 ``Not Found``, 413 ``Request Entity Too Large`` (10 MB payloads, and Lambda's
6 MB invocation limit), 500 ``Internal Server Error`` when the function fails or
returns something that is not a response, 503 ``Service Unavailable`` when the
integration does not answer within its timeout (30 s at most).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from devstack.functions import InvocationResult
from devstack.http_event import (
    ApiContext,
    HttpRequest,
    HttpResponse,
    InvalidLambdaResponse,
    build_event,
    error_response,
    new_request_id,
    to_http_response,
)
from devstack.template import Route

log = logging.getLogger("devstack.http")

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation payload limit (request and response)
LISTEN_BACKLOG = 128  # bursts of webhooks (and benchmarks) open many connections at once

Submit = Callable[[str, dict[str, Any]], "Future[InvocationResult]"]


class _QuietHandler(WSGIRequestHandler):
    """The API logs one line per request itself (with the function and duration)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class HttpApi:
    """Serves ``routes`` on ``host:port``; ``submit(function, event)`` runs the integration."""

    def __init__(
        self,
        routes: Sequence[Route],
        submit: Submit,
        *,
        account_id: str,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._routes = {(route.method, route.path): route for route in routes}
        self._submit = submit
        self._account_id = account_id
        # Bind now, so the port is known (and reserved) before the functions start. Bound
        # here rather than by Werkzeug, which would sys.exit() on "address in use".
        listener = socket.create_server((host, port), backlog=LISTEN_BACKLOG)
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, self._wsgi, threaded=True, request_handler=_QuietHandler, fd=listener.fileno()
            )
        finally:
            listener.close()  # Werkzeug works on its own duplicate of the socket
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HttpApi:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"http-api:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    # -- WSGI -------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        try:
            response, function = self._handle(request)
        except Exception:
            log.exception("%s %s: the local API failed", request.method, request.path)
            response, function = error_response(500, "Internal Server Error", new_request_id()), None
        log.info(
            "%s %s -> %s %d (%.0f ms)",
            request.method,
            request.path,
            function or "-",
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        wsgi_response = Response(response.body, status=response.status)
        wsgi_response.headers.clear()
        for name, value in response.headers:
            wsgi_response.headers.add(name, value)
        return wsgi_response(environ, start_response)

    def _handle(self, request: Request) -> tuple[HttpResponse, str | None]:
        request_id = new_request_id()
        declared = request.content_length
        if declared is not None and declared > MAX_PAYLOAD_BYTES:
            return _too_large(request_id), None
        body = request.stream.read(MAX_PAYLOAD_BYTES + 1)
        if len(body) > MAX_PAYLOAD_BYTES:
            return _too_large(request_id), None
        http_request = _http_request(request, body)
        route = self._routes.get((http_request.method.upper(), request.path))
        if route is None:
            return error_response(404, "Not Found", request_id), None
        context = ApiContext(api_id=route.api_id, account_id=self._account_id, request_id=request_id)
        event = build_event(http_request, route, context)
        if len(json.dumps(event)) > LAMBDA_MAX_PAYLOAD_BYTES:
            return _too_large(request_id), route.function
        return self._integrate(route, event, request_id), route.function

    def _integrate(self, route: Route, event: dict[str, Any], request_id: str) -> HttpResponse:
        future = self._submit(route.function, event)
        try:
            result = future.result(timeout=route.timeout_ms / 1000)
        except FutureTimeout:
            # API Gateway gives up; the invocation itself runs on, as it would in Lambda.
            log.warning("%s did not answer within %d ms", route.function, route.timeout_ms)
            return error_response(503, "Service Unavailable", request_id)
        except CancelledError:  # the stack is stopping
            return error_response(503, "Service Unavailable", request_id)
        if not result.ok:
            return error_response(500, "Internal Server Error", request_id)
        if (size := len(result.payload_text.encode())) > LAMBDA_MAX_PAYLOAD_BYTES:
            log.warning("%s returned %d bytes; Lambda's limit is 6 MB", route.function, size)
            return error_response(500, "Internal Server Error", request_id)
        try:
            response = to_http_response(result.payload, result.payload_text or None)
        except InvalidLambdaResponse as error:
            log.warning("%s returned an invalid response: %s", route.function, error)
            return error_response(500, "Internal Server Error", request_id)
        return HttpResponse(response.status, (*response.headers, ("apigw-requestid", request_id)), response.body)


def _too_large(request_id: str) -> HttpResponse:
    return error_response(413, "Request Entity Too Large", request_id, (("connection", "close"),))


def _http_request(request: Request, body: bytes) -> HttpRequest:
    environ = request.environ
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
    raw_path = raw_uri.split("?", 1)[0]
    # Werkzeug keeps header values as latin-1 text (WSGI); recover the bytes the client sent.
    headers = tuple((name, _wsgi_text(value)) for name, value in request.headers.items())
    return HttpRequest(
        method=request.method,
        raw_path=raw_path,
        raw_query=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
        source_ip=request.remote_addr or "127.0.0.1",
        protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        scheme=request.scheme,
        server_port=int(environ.get("SERVER_PORT") or 80),
    )


def _wsgi_text(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
