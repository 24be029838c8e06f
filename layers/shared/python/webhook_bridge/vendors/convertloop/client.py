"""ConvertLoop REST API v1: people (identify, segments) and event logs.

Documented at ``https://api.convertloop.co/v1``: ``POST /people`` and ``POST /event_logs``,
JSON bodies, HTTP Basic auth with ``app_id:api_key``. Datetimes are sent as ISO 8601 UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import ConfigDict, field_validator, model_validator

from webhook_bridge.vendors.base import BaseClient, basic_auth
from webhook_bridge.vendors.convertloop.spec import SPEC
from webhook_bridge.vendors.fields import Email, NonEmptyStr
from webhook_bridge.vendors.requests import VendorRequest
from webhook_bridge.vendors.wire_formats import iso_utc, jsonable

DEFAULT_BASE_URL = SPEC.base_urls["CONVERTLOOP_BASE_URL"]
VENDOR = SPEC.name

# The document spells this key two ways: the event_logs attribute table names it
# ``occured_at``, the sentence in that same row says "if you don't specify the
# ``ocurred_at`` key". The table is the list of keys "you can use", so only its spelling
# is sent (one key, not both). Callers use the correctly spelled ``occurred_at``; this
# constant is the one place the wire spelling lives.
OCCURRED_AT_WIRE_KEY = "occured_at"
IDENTIFIER_KEYS = ("pid", "user_id", "email")


class _ConvertLoopRequest(VendorRequest):
    vendor_name: ClassVar[str] = VENDOR


def _segment_pairs(adds: tuple[str, ...], removes: tuple[str, ...]) -> list[dict[str, str]]:
    # The table types add_to_segments/remove_from_segments as "string" while saying "one or
    # several segments": a list is not what the document shows. So each request names at most
    # one segment to add and one to leave, and several take several requests, which ConvertLoop
    # accepts however strictly it reads "string" (each is an idempotent upsert).
    lists = (("add_to_segments", adds), ("remove_from_segments", removes))
    return [{key: names[i] for key, names in lists if i < len(names)} for i in range(max(len(adds), len(removes)))]


class PersonRequest(_ConvertLoopRequest):
    """``POST /people``: identify a person, set custom attributes, change segments.

    Any key not declared here is a custom attribute (the document says so), hence
    ``extra="allow"``. At least one of ``pid``, ``user_id`` or ``email`` is required.
    """

    model_config = ConfigDict(extra="allow")

    pid: NonEmptyStr | None = None
    user_id: NonEmptyStr | None = None
    email: Email | None = None
    add_to_segments: tuple[NonEmptyStr, ...] | None = None
    remove_from_segments: tuple[NonEmptyStr, ...] | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    resubscribe: bool | None = None

    @field_validator("add_to_segments", "remove_from_segments", mode="before")
    @classmethod
    def _one_or_several(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _identified(self) -> PersonRequest:
        if not (self.pid or self.user_id or self.email):
            raise ValueError("one of pid, user_id or email is required")
        return self

    def to_wires(self) -> list[dict[str, Any]]:
        """The bodies to post, in order: the first carries the identifiers, the attributes and
        the first segment to add and to leave; each later one the identifiers and the next."""
        identifiers = {key: getattr(self, key) for key in IDENTIFIER_KEYS if getattr(self, key) is not None}
        first: dict[str, Any] = {key: jsonable(value) for key, value in (self.model_extra or {}).items()}
        first.update(identifiers)
        if self.first_seen_at is not None:
            first["first_seen_at"] = iso_utc(self.first_seen_at)
        if self.last_seen_at is not None:
            first["last_seen_at"] = iso_utc(self.last_seen_at)
        if self.resubscribe is not None:
            first["resubscribe"] = self.resubscribe
        segments = _segment_pairs(self.add_to_segments or (), self.remove_from_segments or ())
        return [first | (segments[0] if segments else {})] + [identifiers | pair for pair in segments[1:]]


class EventLogRequest(_ConvertLoopRequest):
    """``POST /event_logs``: ``name`` is required; ``person`` says who (and may update them)."""

    name: NonEmptyStr
    occurred_at: datetime | None = None
    person: PersonRequest | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_segment_each(self) -> EventLogRequest:
        # One event log is one request, so its person hash can name only what one body can.
        if self.person is not None and len(self.person.to_wires()) > 1:
            raise ValueError("person names at most one segment to add and one to leave")
        return self

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"name": self.name}
        if self.occurred_at is not None:
            wire[OCCURRED_AT_WIRE_KEY] = iso_utc(self.occurred_at)
        if self.person is not None:
            wire["person"] = self.person.to_wires()[0]  # one body: _one_segment_each
        if self.metadata:
            wire["metadata"] = jsonable(self.metadata)
        return wire


class ConvertLoopClient(BaseClient):
    vendor: ClassVar[str] = VENDOR

    def __init__(
        self,
        app_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        *,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            auth_header=basic_auth(app_id, api_key),
            secrets=(api_key,),
            http=http,
            before_request=before_request,
        )

    def upsert_person(self, person: PersonRequest | Mapping[str, Any]) -> list[Any]:
        """Create or update a person (and their segments): one request per segment beyond the
        first (``PersonRequest.to_wires``). A failure part way is retried whole: each is an upsert.
        Returns the vendor's JSON of each request made, in order."""
        request = PersonRequest.parse(person)
        return [self._json(self._request("POST", "/people", body=body)) for body in request.to_wires()]

    def create_event_log(self, event: EventLogRequest | Mapping[str, Any]) -> Any:
        """Log an event, optionally for a person whose attributes/segments it also updates."""
        request = EventLogRequest.parse(event)
        return self._json(self._request("POST", "/event_logs", body=request.to_wire()))


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> ConvertLoopClient:
    """The client for the spec's configuration values (credentials and base URL)."""
    return ConvertLoopClient(
        values["CONVERTLOOP_APP_ID"], values["CONVERTLOOP_API_KEY"], values["CONVERTLOOP_BASE_URL"], http
    )
