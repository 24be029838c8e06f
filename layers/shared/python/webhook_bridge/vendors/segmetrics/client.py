"""SegMetrics: the import API (contacts, tags, invoices, subscriptions, products, ads)
and the reporting API (report data, customer journey, contact).

Import calls go to ``{base_url}/{account_id}/{integration_id}/...`` (base
``https://import.segmetrics.io/api/v1``); reporting calls to
``{reporting_base_url}/{account_id}/...`` (base ``https://api.segmetrics.io``). Both take
the raw key in ``Authorization: <key>``. A 400 carries SegMetrics' ``errors`` list on
:attr:`BadRequestError.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ValidationError

from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.exceptions import UnexpectedResponseError
from webhook_bridge.vendors.requests import invalid
from webhook_bridge.vendors.segmetrics.models import (
    VENDOR,
    AdPerformanceRequest,
    ContactRequest,
    CustomerJourneyPage,
    InvoiceRequest,
    ProductRequest,
    SubscriptionRequest,
    TagsRemoveRequest,
    TagsRequest,
)
from webhook_bridge.vendors.segmetrics.spec import SPEC
from webhook_bridge.vendors.wire_formats import plain_date

DEFAULT_BASE_URL = SPEC.base_urls["SEGMETRICS_BASE_URL"]
DEFAULT_REPORTING_BASE_URL = SPEC.base_urls["SEGMETRICS_REPORTING_BASE_URL"]

ReportType = Literal["leads", "revenue", "ads", "subscriptions"]
Scale = Literal["day", "week", "month"]
REPORT_TYPES = frozenset({"leads", "revenue", "ads", "subscriptions"})
SCALES = frozenset({"day", "week", "month"})
EXTEND_OPTIONS = frozenset({"events", "tags", "orders", "subscriptions", "lists"})
MAX_PAGE_SIZE = 100
# A start/end is an ISO date or a SegMetrics "Relative DateTime" string, passed through.
DateBound = date | str


def _unexpected(request: str, documented: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(VENDOR, f"{request}: the answer is not {documented}")


def _identifier(value: str | int, what: str) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int) or (isinstance(value, str) and not value.strip()):
        raise invalid(VENDOR, f"{what} must be a non-empty string or an integer")
    return value


def _date_bound(value: DateBound | None, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):  # datetimes too
        return plain_date(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise invalid(VENDOR, f"{what} must be a date or a non-empty string")


def _extend(values: Iterable[str] | str | None) -> str | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    names = [part.strip() for item in items for part in item.split(",") if part.strip()]
    unknown = sorted(set(names) - EXTEND_OPTIONS)
    if unknown:
        raise invalid(VENDOR, f"extend accepts {', '.join(sorted(EXTEND_OPTIONS))}; got {', '.join(unknown)}")
    return ",".join(dict.fromkeys(names)) or None


class SegMetricsClient(BaseClient):
    vendor: ClassVar[str] = VENDOR

    def __init__(
        self,
        account_id: str,
        integration_id: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        reporting_base_url: str = DEFAULT_REPORTING_BASE_URL,
        http: httpx.Client | None = None,
        *,
        before_request: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url, auth_header=api_key, secrets=(api_key,), http=http, before_request=before_request
        )
        self.account_id = _identifier(account_id, "account_id")
        self.integration_id = _identifier(integration_id, "integration_id")
        self.reporting_base_url = reporting_base_url.rstrip("/")

    # -- import API ----------------------------------------------------------------------

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

    def delete_invoice(self, invoice_id: str | int) -> Any:
        return self._import("DELETE", "/invoice/{id}", path_params={"id": _identifier(invoice_id, "invoice id")})

    def add_subscription(self, subscription: SubscriptionRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/subscription", body=SubscriptionRequest.parse(subscription).to_wire())

    def delete_subscription(self, subscription_id: str | int) -> Any:
        path_params = {"id": _identifier(subscription_id, "subscription id")}
        return self._import("DELETE", "/subscription/{id}", path_params=path_params)

    def add_product(self, product: ProductRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/product", body=ProductRequest.parse(product).to_wire())

    def record_ad_performance(self, performance: AdPerformanceRequest | Mapping[str, Any]) -> Any:
        return self._import("POST", "/ad/performance", body=AdPerformanceRequest.parse(performance).to_wire())

    # -- reporting API ---------------------------------------------------------------------

    def _report_route(
        self, report_type: str, report_id: str | int | None, suffix: str = ""
    ) -> tuple[str, dict[str, Any]]:
        if report_type not in REPORT_TYPES:
            raise invalid(VENDOR, f"report_type must be one of {', '.join(sorted(REPORT_TYPES))}")
        path_params: dict[str, Any] = {"account_id": self.account_id, "report_type": report_type}
        route = "/{account_id}/report/{report_type}"
        if report_id is not None:
            path_params["report_id"] = _identifier(report_id, "report_id")
            route += "/{report_id}"
        return route + suffix, path_params

    def _report_get(self, route: str, path_params: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        response = self._request("GET", route, path_params=path_params, params=params, base_url=self.reporting_base_url)
        return self._json(response)

    def get_report(
        self,
        report_type: ReportType,
        report_id: str | int | None = None,
        *,
        start: DateBound | None = None,
        end: DateBound | None = None,
        scale: Scale | None = None,
    ) -> Any:
        """Key metrics, graph and table of a (saved) report for a period."""
        if scale is not None and scale not in SCALES:
            raise invalid(VENDOR, f"scale must be one of {', '.join(sorted(SCALES))}")
        route, path_params = self._report_route(report_type, report_id)
        params = {"start": _date_bound(start, "start"), "end": _date_bound(end, "end"), "scale": scale}
        return self._report_get(route, path_params, params)

    def get_customer_journey(
        self,
        report_type: ReportType,
        report_id: str | int | None = None,
        *,
        start: DateBound | None = None,
        end: DateBound | None = None,
        extend: Iterable[str] | str | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> CustomerJourneyPage:
        """One page of the contacts in a report, with their journey (``extend`` adds data)."""
        if limit is not None and (isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE):
            raise invalid(VENDOR, f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if page is not None and (isinstance(page, bool) or page < 1):
            raise invalid(VENDOR, "page must be 1 or more")
        route, path_params = self._report_route(report_type, report_id, "/contacts")
        params = {
            "start": _date_bound(start, "start"),
            "end": _date_bound(end, "end"),
            "extend": _extend(extend),
            "limit": limit,
            "page": page,
        }
        payload = self._report_get(route, path_params, params)
        try:
            return CustomerJourneyPage.model_validate(payload)
        except ValidationError:
            # ``from None``: pydantic's message repeats the answer, which holds emails.
            raise _unexpected("GET /{account_id}/report/{report_type}/contacts", "a page of contacts") from None

    def iter_customer_journey(
        self,
        report_type: ReportType,
        report_id: str | int | None = None,
        *,
        start: DateBound | None = None,
        end: DateBound | None = None,
        extend: Iterable[str] | str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every contact of every page, fetching pages as they are consumed."""
        page_number = 1
        while True:
            page = self.get_customer_journey(
                report_type, report_id, start=start, end=end, extend=extend, limit=limit, page=page_number
            )
            yield from page.data
            # Bounded by last_page even if the server ignored ``page`` and repeated itself.
            page_number += 1
            if not page.has_next or page_number > page.meta.last_page:
                return

    def get_contact(self, id_or_email: str | int, *, extend: Iterable[str] | str | None = None) -> Any:
        """One contact's full journey: the ``data`` object of the documented ``{"data": {...}}``."""
        route = "/{account_id}/contact/{contact}"
        payload = self._report_get(
            route,
            {"account_id": self.account_id, "contact": _identifier(id_or_email, "contact")},
            {"extend": _extend(extend)},
        )
        contact = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(contact, dict):
            raise _unexpected(f"GET {route}", 'a {"data": contact} object')
        return contact


def from_configuration(values: Mapping[str, str], http: httpx.Client | None = None) -> SegMetricsClient:
    """The client for the spec's configuration values (credentials and base URLs)."""
    return SegMetricsClient(
        values["SEGMETRICS_ACCOUNT_ID"],
        values["SEGMETRICS_INTEGRATION_ID"],
        values["SEGMETRICS_API_KEY"],
        base_url=values["SEGMETRICS_BASE_URL"],
        reporting_base_url=values["SEGMETRICS_REPORTING_BASE_URL"],
        http=http,
    )
