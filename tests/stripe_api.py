"""A local server speaking Stripe's list API (``/v1/events``, ``/v1/customers``, ``/v1/subscriptions``).

As Stripe documents it: newest first, ``limit`` (at most 100), ``starting_after`` an object id of
the previous page, ``has_more``, ``created[gte]``, ``expand[]=data.customer``; a Bearer key,
401 otherwise; 429 with ``Retry-After`` for as many requests as ``rate_limited`` says.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "rk_test_webhook_bridge_read_only"
LISTS = ("events", "customers", "subscriptions")


@dataclass
class StripeApi:
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in LISTS})
    rate_limited: int = 0  # the next this many requests get a 429
    retry_after: str = "2"
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    base_url: str = ""

    def answer(
        self, path: str, query: dict[str, list[str]], authorization: str | None
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append((path, query))
        if authorization != f"Bearer {API_KEY}":
            return 401, {}, _error("invalid_request_error", "Invalid API Key provided: rk_test_***")
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return 429, {"Retry-After": self.retry_after}, _error("invalid_request_error", "Too many requests")
        name = path.removeprefix("/v1/")
        if name not in self.objects:
            return 404, {}, _error("invalid_request_error", f"Unrecognized request URL (GET: {path})")
        return 200, {}, self._page(name, query)

    def _page(self, name: str, query: dict[str, list[str]]) -> dict[str, Any]:
        items = sorted(self.objects[name], key=lambda obj: obj["created"], reverse=True)
        if "created[gte]" in query:
            items = [obj for obj in items if obj["created"] >= int(query["created[gte]"][0])]
        if name == "subscriptions":
            items = [obj for obj in items if obj["status"] not in ("canceled", "incomplete_expired")]
        if "starting_after" in query:
            ids = [obj["id"] for obj in items]
            items = items[ids.index(query["starting_after"][0]) + 1 :]
        limit = min(int(query.get("limit", ["10"])[0]), 100)
        data = [self._expanded(obj, query.get("expand[]", [])) for obj in items[:limit]]
        return {"object": "list", "url": f"/v1/{name}", "has_more": len(items) > limit, "data": data}

    def _expanded(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        if "data.customer" in expand and isinstance(obj.get("customer"), str):
            customer = next(c for c in self.objects["customers"] if c["id"] == obj["customer"])
            return {**obj, "customer": customer}
        return obj


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


@contextmanager
def stripe_api(api: StripeApi | None = None) -> Iterator[StripeApi]:
    """Serve ``api`` on 127.0.0.1 (a free port) while the block runs; ``api.base_url`` ends in ``/v1``."""
    state = api or StripeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, headers, body = state.answer(url.path, parse_qs(url.query), self.headers.get("Authorization"))
            content = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
