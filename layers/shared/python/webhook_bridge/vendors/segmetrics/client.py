"""SegMetrics' import API, the calls the bridge makes: contacts, tags, invoices, subscriptions.

Calls go to ``{base_url}/{account_id}/{integration_id}/...`` (base
``https://import.segmetrics.io/api/v1``) with the raw key in ``Authorization: <key>``.
A 400 carries SegMetrics' ``errors`` list on :attr:`BadRequestError.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.requests import invalid
from webhook_bridge.vendors.segmetrics.models import (
    VENDOR,
    ContactRequest,
    InvoiceRequest,
    SubscriptionRequest,
    TagsRemoveRequest,
    TagsRequest,
)
from webhook_bridge.vendors.segmetrics.spec import SPEC

DEFAULT_BASE_URL = SPEC.base_urls["SEGMETRICS_BASE_URL"]


def _identifier(value: str | int, what: str) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int) or (isinstance(value, str) and not value.strip()):
        raise invalid(VENDOR, f"{what} must be a non-empty string or an integer")
    return value


class SegMetricsClient(BaseClient):
    vendor: ClassVar[str] = VENDOR

    def __init__(
        self,
        account_id: str,
        integration_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        *,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url, auth_header=api_key, secrets=(api_key,), http=http, before_request=before_request
        )
        self.account_id = _identifier(account_id, "account_id")
        self.integration_id = _identifier(integration_id, "integration_id")

    def _import(
        self, method: str, route: str, *, body: Any = None, path_params: Mapping[str, Any] | None = None
    ) -> Any:
        response = self._request(
            method,
            "/{account_id}/{integration_id}" + route,
            path_params={"account_id": self.account_id, "integration_id": self.integration_id, **(path_params or {})},
            body=body,
        )
        return self._json(response)

    def upsert_contact(self, contact: ContactRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/contact", body=ContactRequest.parse(contact).to_wire())

    def delete_contact(self, id_or_email: str | int) -> Any:
        path_params = {"contact": _identifier(id_or_email, "contact")}
        return self._import("DELETE", "/contact/{contact}", path_params=path_params)

    def add_tags(self, request: TagsRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/tags/add", body=TagsRequest.parse(request).to_wire())

    def remove_tags(self, request: TagsRemoveRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/tags/remove", body=TagsRemoveRequest.parse(request).to_wire())

    def add_invoice(self, invoice: InvoiceRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/invoice", body=InvoiceRequest.parse(invoice).to_wire())

    def add_subscription(self, subscription: SubscriptionRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/subscription", body=SubscriptionRequest.parse(subscription).to_wire())


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> SegMetricsClient:
    """The client for the spec's configuration values (credentials and base URL)."""
    return SegMetricsClient(
        values["SEGMETRICS_ACCOUNT_ID"],
        values["SEGMETRICS_INTEGRATION_ID"],
        values["SEGMETRICS_API_KEY"],
        base_url=values["SEGMETRICS_BASE_URL"],
        http=http,
    )
