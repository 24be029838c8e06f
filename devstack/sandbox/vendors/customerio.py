"""Customer.io Track API v1: customers PUT/DELETE and custom events, with event-id dedupe."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.sandbox.store import BoundedDict
from devstack.sandbox.vendors.base import NOTE_HEADER, VendorService
from devstack.sandbox.wire import is_int, json_response, non_empty_string, read_body, utc_now

MAX_CUSTOMERS = 50_000
MAX_EVENTS = 20_000
MAX_EVENT_IDS = 100_000


class CustomerIO(VendorService):
    name = "customerio"
    prefix = "/customerio/api/v1"
    env_var = "CUSTOMERIO_BASE_URL"
    credential_fields = ("customerio_site_id", "customerio_api_key")
    unauthorized = "Unauthorized request"
    realm = "Customer.io"
    tables = ("customers", "events", "deleted")

    def reset(self) -> None:
        with self.lock:
            self.customers: BoundedDict[str, dict[str, Any]] = BoundedDict(MAX_CUSTOMERS)
            self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
            self.deleted: deque[str] = deque(maxlen=MAX_EVENTS)
            # (customer id, event id) pairs already tracked: Customer.io's dedupe key.
            self.event_ids: BoundedDict[tuple[str, str], str] = BoundedDict(MAX_EVENT_IDS)
            self._ids = itertools.count(1)

    def error(self, status: int, message: str, errors: list[str] | None = None) -> Response:
        return json_response({"meta": {"error": message}}, status)

    def route(self, request: Request, path: str) -> Response:
        # Parsed by hand rather than with URL rules so that an empty or blank id is a 400
        # ("a required parameter was missing") instead of an unrouteable 404.
        if path != "/customers" and not path.startswith("/customers/"):
            return self.error(404, f"no such endpoint: {request.method} {self.prefix}{path}")
        rest = path[len("/customers/") :]
        # "/customers/events" is the events of an empty id, unless it is a customer called "events".
        is_events = rest.endswith("/events") or (rest == "events" and request.method == "POST")
        customer_id = rest[: -len("events")].removesuffix("/") if is_events else rest.removesuffix("/")
        allowed = ["POST"] if is_events else ["PUT", "DELETE"]
        if request.method not in allowed:
            response = self.error(405, f"method {request.method} not allowed on {path}")
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if not customer_id.strip():
            return self.error(400, "customer id is required in the path")
        with self.lock:
            if is_events:
                return self.track_event(request, customer_id)
            if request.method == "PUT":
                return self.put_customer(request, customer_id)
            return self.delete_customer(customer_id)

    def _attributes(self, request: Request) -> dict[str, Any] | Response:
        # The document's examples use `curl -d key=value`, i.e. form bodies; clients send JSON.
        body = read_body(request)
        if body.kind == "empty":
            return {}
        if not body.is_object:
            return self.error(400, "request body must be a JSON object of attributes")
        assert isinstance(body.value, dict)
        return body.value

    def put_customer(self, request: Request, customer_id: str) -> Response:
        attributes = self._attributes(request)
        if isinstance(attributes, Response):
            return attributes
        created_at = attributes.get("created_at")
        if created_at is not None and not _timestamp(created_at):
            return self.error(400, "created_at must be a UNIX timestamp")
        existing = self.customers.get(customer_id)
        if existing is None and attributes.get("_update") is True:
            # `_update: true` asks Customer.io to update only, never to create.
            return json_response({})
        customer = existing or {"id": customer_id, "attributes": {}, "created": utc_now()}
        for key, value in attributes.items():
            if key in ("id", "_update"):
                continue
            if value is None or value == "":
                customer["attributes"].pop(key, None)  # an empty value removes the attribute
            else:
                customer["attributes"][key] = value
        customer["updated"] = utc_now()
        self.customers[customer_id] = customer
        return json_response({})

    def delete_customer(self, customer_id: str) -> Response:
        # Deleting someone unknown is still a 200: the end state the caller asked for holds.
        self.customers.pop(customer_id, None)
        self.deleted.append(customer_id)
        return json_response({})

    def track_event(self, request: Request, customer_id: str) -> Response:
        body = self._attributes(request)
        if isinstance(body, Response):
            return body
        if not non_empty_string(body.get("name")):
            return self.error(400, "missing required parameter: name")
        if body.get("data") is not None and not isinstance(body["data"], dict):
            return self.error(400, "data must be an object")
        if body.get("timestamp") is not None and not _timestamp(body["timestamp"]):
            return self.error(400, "timestamp must be a UNIX timestamp")
        event_id = body.get("id")
        if event_id is not None and not non_empty_string(event_id):
            return self.error(400, "id must be a non-empty string")
        if event_id is not None and (customer_id, event_id) in self.event_ids:
            # Customer.io accepts a repeated event id but keeps the first event only.
            response = json_response({})
            response.headers[NOTE_HEADER] = "duplicate event id ignored"
            return response
        if customer_id not in self.customers:
            # Tracking an event for an unknown id creates that profile in Customer.io.
            self.customers[customer_id] = {
                "id": customer_id,
                "attributes": {},
                "created": utc_now(),
                "updated": utc_now(),
            }
        event = {
            "seq": next(self._ids),
            "customer_id": customer_id,
            "id": event_id,
            "name": body["name"],
            "data": body.get("data") or {},
            "timestamp": body.get("timestamp"),
            "received_at": utc_now(),
        }
        self.events.append(event)
        if event_id is not None:
            self.event_ids[(customer_id, event_id)] = event_id
        return json_response({})


def _timestamp(value: Any) -> bool:
    return (is_int(value) and value >= 0) or (isinstance(value, str) and value.isdigit())
