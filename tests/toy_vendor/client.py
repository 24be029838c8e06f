"""Parrot's API: ``PUT /people/{email}`` (with the tags to add and remove) and
``POST /people/{email}/events``, Bearer key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.fields import Email, NonEmptyStr
from webhook_bridge.vendors.requests import VendorRequest

from .spec import SPEC


class _ParrotRequest(VendorRequest):
    vendor_name: ClassVar[str] = SPEC.name


class PersonRequest(_ParrotRequest):
    email: Email
    first_name: NonEmptyStr | None = None
    add_tags: tuple[NonEmptyStr, ...] | None = None
    remove_tags: tuple[NonEmptyStr, ...] | None = None


class EventRequest(_ParrotRequest):
    email: Email
    name: NonEmptyStr


class ParrotClient(BaseClient):
    vendor: ClassVar[str] = SPEC.name

    def __init__(self, api_key: str, base_url: str, http: httpx.Client | None = None) -> None:
        super().__init__(base_url=base_url, auth_header=f"Bearer {api_key}", secrets=(api_key,), http=http)

    def upsert_person(self, person: PersonRequest) -> Any:
        wire = person.to_wire()
        email = wire.pop("email")
        return self._json(self._request("PUT", "/people/{email}", path_params={"email": email}, body=wire))

    def track(self, event: EventRequest) -> Any:
        route = "/people/{email}/events"
        return self._json(self._request("POST", route, path_params={"email": event.email}, body={"name": event.name}))


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> ParrotClient:
    return ParrotClient(values["PARROT_API_KEY"], values["PARROT_BASE_URL"], http)
