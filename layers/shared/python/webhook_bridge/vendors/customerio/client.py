"""Customer.io Track API v1: customers (identify, delete) and custom events.

Documented at ``https://track.customer.io/api/v1`` (EU accounts:
``https://track-eu.customer.io/api/v1``, a different ``base_url`` only), HTTP Basic auth
with ``site_id:api_key``. The document's curl examples post form fields; the Track API
takes the same fields as JSON, which keeps types (numbers, booleans, nested data) intact.
Timestamps are unix seconds, as Customer.io stores them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import field_validator
from ulid import ULID

from webhook_bridge.vendors.base import BaseClient, basic_auth
from webhook_bridge.vendors.customerio.spec import SPEC
from webhook_bridge.vendors.fields import NonEmptyStr
from webhook_bridge.vendors.requests import VendorRequest
from webhook_bridge.vendors.wire_formats import jsonable, unix_millis, unix_seconds

DEFAULT_BASE_URL = SPEC.base_urls["CUSTOMERIO_BASE_URL"]
EU_BASE_URL = "https://track-eu.customer.io/api/v1"
VENDOR = SPEC.name


def event_ulid(action_id: str, occurred_at: datetime) -> str:
    """A ULID that is the same on every retry of the same action.

    Customer.io deduplicates events on ``id``. Time part: ``occurred_at`` in ms, so ids
    still sort by occurrence; randomness part: the first 10 bytes of sha256(action_id),
    so two actions never share an id and one action always gets the same.
    """
    millis = unix_millis(occurred_at)
    entropy = hashlib.sha256(action_id.encode("utf-8")).digest()[:10]
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + entropy))


def _customer_id(value: str) -> str:
    # Empty only: the document gives an id no length limit, so a long email (one may have 254
    # characters) is sent, and refused by Customer.io if it has a limit of its own, not here.
    if not value.strip():
        raise ValueError("customer id must not be empty")
    return value


def _timestamps_to_unix(value: Any) -> Any:
    return jsonable(value, datetime_format=unix_seconds)


class _CustomerIoRequest(VendorRequest):
    vendor_name: ClassVar[str] = VENDOR

    customer_id: str

    @field_validator("customer_id")
    @classmethod
    def _valid_customer_id(cls, value: str) -> str:
        return _customer_id(value)


class IdentifyRequest(_CustomerIoRequest):
    """``PUT /customers/{id}``: attributes to set; ``created_at`` only when known."""

    attributes: dict[NonEmptyStr, Any] = {}
    created_at: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = _timestamps_to_unix(self.attributes)
        if self.created_at is not None:
            wire["created_at"] = unix_seconds(self.created_at)
        return wire


class TrackEventRequest(_CustomerIoRequest):
    """``POST /customers/{id}/events``: ``name`` required; ``id`` (a ULID) deduplicates."""

    name: NonEmptyStr
    data: dict[NonEmptyStr, Any] = {}
    timestamp: datetime | None = None
    event_id: str | None = None

    @field_validator("event_id")
    @classmethod
    def _ulid(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ULID.from_str(value)
            except ValueError:
                raise ValueError("event id must be a ULID") from None
        return value

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"name": self.name, "data": _timestamps_to_unix(self.data)}
        if self.timestamp is not None:
            wire["timestamp"] = unix_seconds(self.timestamp)
        if self.event_id is not None:
            wire["id"] = self.event_id
        return wire


class CustomerIoClient(BaseClient):
    vendor: ClassVar[str] = VENDOR

    def __init__(
        self,
        site_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        *,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_header=basic_auth(site_id, api_key),
            secrets=(api_key,),
            http=http,
            before_request=before_request,
        )

    def identify(
        self, customer_id: str, attributes: Mapping[str, Any] | None = None, created_at: datetime | None = None
    ) -> Any:
        """Create or update the customer; the id may be an email (it is URL-encoded in the path)."""
        request = IdentifyRequest(customer_id=customer_id, attributes=dict(attributes or {}), created_at=created_at)
        response = self._request(
            "PUT", "/customers/{id}", path_params={"id": request.customer_id}, body=request.to_wire()
        )
        return self._json(response)

    def delete_customer(self, customer_id: str) -> Any:
        request = IdentifyRequest(customer_id=customer_id)
        return self._json(self._request("DELETE", "/customers/{id}", path_params={"id": request.customer_id}))

    def track_event(
        self,
        customer_id: str,
        name: str,
        data: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> Any:
        request = TrackEventRequest(
            customer_id=customer_id, name=name, data=dict(data or {}), timestamp=timestamp, event_id=event_id
        )
        response = self._request(
            "POST", "/customers/{id}/events", path_params={"id": request.customer_id}, body=request.to_wire()
        )
        return self._json(response)


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> CustomerIoClient:
    """The client for the spec's configuration values (credentials and base URL)."""
    return CustomerIoClient(
        values["CUSTOMERIO_SITE_ID"], values["CUSTOMERIO_API_KEY"], values["CUSTOMERIO_BASE_URL"], http
    )
