"""Loops REST API v1, the calls the bridge makes: contact update and delete, events.

Documented at ``https://app.loops.so/api/v1`` with ``Authorization: Bearer <key>``.
Loops allows 10 requests/s per team; pacing is the delivery layer's job, and a 429
surfaces here as :class:`RateLimitError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

import httpx
from pydantic import ConfigDict, Field, model_validator

from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.exceptions import ConflictError
from webhook_bridge.vendors.fields import Email, NonEmptyStr
from webhook_bridge.vendors.loops.spec import SPEC
from webhook_bridge.vendors.requests import VendorRequest, invalid
from webhook_bridge.vendors.wire_formats import iso_utc

DEFAULT_BASE_URL = SPEC.base_urls["LOOPS_BASE_URL"]
VENDOR = SPEC.name
MAX_IDEMPOTENCY_KEY_LENGTH = 100

# Loops stores contact and event properties as strings, numbers, booleans or dates.
_PROPERTY_TYPES = (str, int, float, bool, datetime, date, type(None))


def _check_properties(values: Mapping[str, Any], what: str) -> None:
    for key, value in values.items():
        if not isinstance(value, _PROPERTY_TYPES):
            raise ValueError(f"{what} {key} must be a string, number, boolean or date")


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class _LoopsRequest(VendorRequest):
    vendor_name: ClassVar[str] = VENDOR
    # Unknown keys are contact properties (favoriteColor, userGroup... in the document).
    model_config = ConfigDict(extra="allow")

    email: Email | None = None
    user_id: NonEmptyStr | None = Field(default=None, alias="userId")
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")

    @model_validator(mode="after")
    def _contact_properties(self) -> _LoopsRequest:
        _check_properties(self.model_extra or {}, "contact property")
        return self

    def to_wire(self) -> dict[str, Any]:
        wire = {key: _wire_value(value) for key, value in (self.model_extra or {}).items()}
        wire.update(self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(self.model_extra or {})))
        return wire


class _ContactWrite(_LoopsRequest):
    """Every contact write and event needs ``email``: "The only required field is 'email'"
    (update), "Both fields are required" (events). ``userId`` may go beside it, never instead."""

    email: Email


class ContactUpdateRequest(_ContactWrite):
    """``PUT /contacts/update``: creates the contact when no contact has this email."""


class EventRequest(_ContactWrite):
    """``POST /events/send``: ``email`` and ``eventName`` ("Both fields are required").

    Any other key is a contact property that Loops sets on the contact when it receives
    the event, so it must be a plain value like any contact property.
    """

    event_name: NonEmptyStr = Field(alias="eventName")


@dataclass(frozen=True)
class EventSendResult:
    """``duplicate``: Loops answered 409, the idempotency key was already used: nothing more to do."""

    duplicate: bool
    response: Any = None


def _one_identifier(email: str | None, user_id: str | None) -> tuple[str, str]:
    given = [(key, value) for key, value in (("email", email), ("userId", user_id)) if value]
    if len(given) != 1:
        raise invalid(VENDOR, "exactly one of email or userId is required")
    return given[0]


class LoopsClient(BaseClient):
    vendor: ClassVar[str] = VENDOR

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        *,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_header=f"Bearer {api_key}",
            secrets=(api_key,),
            http=http,
            before_request=before_request,
        )

    def update_contact(self, contact: ContactUpdateRequest | Mapping[str, Any]) -> Any:
        request = ContactUpdateRequest.parse(contact)
        return self._json(self._request("PUT", "/contacts/update", body=request.to_wire()))

    def delete_contact(self, *, email: str | None = None, user_id: str | None = None) -> Any:
        key, value = _one_identifier(email, user_id)
        return self._json(self._request("POST", "/contacts/delete", body={key: value}))

    def send_event(self, event: EventRequest | Mapping[str, Any], idempotency_key: str) -> EventSendResult:
        """Send an event exactly once per ``idempotency_key``.

        The key must be the same on every retry of the same logical event (max 100
        characters). Loops answers 409 when it has already seen the key: the event was
        delivered by an earlier attempt, so that is a success, not an error.
        """
        request = EventRequest.parse(event)
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise invalid(VENDOR, f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters")
        if not idempotency_key.isascii() or not idempotency_key.isprintable():
            raise invalid(VENDOR, "idempotency_key must be printable ASCII")
        try:
            response = self._request(
                "POST", "/events/send", body=request.to_wire(), headers={"Idempotency-Key": idempotency_key}
            )
        except ConflictError:
            return EventSendResult(duplicate=True)
        return EventSendResult(duplicate=False, response=self._json(response))


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> LoopsClient:
    """The client for the spec's configuration values (credentials and base URL)."""
    return LoopsClient(values["LOOPS_API_KEY"], values["LOOPS_BASE_URL"], http)
