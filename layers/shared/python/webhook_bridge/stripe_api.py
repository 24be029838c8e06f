"""Stripe's API, read-only: a customer's email, and the lists ``bridgectl`` reads.

``StripeCustomers.email``: when an action names a Stripe customer whose email no webhook
has taught yet (``delivery/identity.py``). ``StripeLists``: ``bridgectl backfill`` and
``import`` (events, customers, subscriptions). ``STRIPE_API_KEY`` should be a restricted
key with read access to those only. Same conventions as the vendor clients (``vendors/base.py``):
the shared connection pool, no retries of its own, errors from the vendor error tree,
nothing secret or personal in an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from webhook_bridge.actions import normalize_email
from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.exceptions import NotFoundError, RateLimitError

DEFAULT_BASE_URL = "https://api.stripe.com/v1"
PAGE_SIZE = 100  # Stripe's maximum
RATE_LIMIT_ATTEMPTS = 8
FALLBACK_WAIT_SECONDS = 1.0


class StripeCustomers(BaseClient):
    vendor = "stripe"

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, http: httpx.Client | None = None) -> None:
        super().__init__(base_url=base_url, auth_header=f"Bearer {api_key}", secrets=(api_key,), http=http)

    def email(self, customer_id: str) -> str | None:
        """The customer's email now; ``None`` when Stripe has none, or no such customer."""
        try:
            response = self._request("GET", "/customers/{id}", path_params={"id": customer_id})
        except NotFoundError:
            return None
        customer = self._json(response)
        if not isinstance(customer, dict) or customer.get("deleted"):
            return None
        email = customer.get("email")
        return normalize_email(email) if isinstance(email, str) else None


class StripeLists(BaseClient):
    """Every object of a list. Unlike the delivery path, an operator's command has nobody else to
    retry for it, so a 429 is waited out here (``Retry-After``, else a short backoff), with an
    injected ``sleep``."""

    vendor = "stripe"

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(base_url=base_url, auth_header=f"Bearer {api_key}", secrets=(api_key,), http=http)
        self._sleep = sleep

    def events(self, since: int) -> Iterator[dict[str, Any]]:
        """Events created at or after ``since`` (epoch seconds), newest first as Stripe lists them."""
        return self.each("/events", {"created[gte]": since})

    def customers(self) -> Iterator[dict[str, Any]]:
        return self.each("/customers", {})

    def subscriptions(self) -> Iterator[dict[str, Any]]:
        """Every subscription that is not canceled (Stripe's default), its customer expanded for the email."""
        return self.each("/subscriptions", {"expand[]": "data.customer"})

    def each(self, route: str, params: Mapping[str, str | int]) -> Iterator[dict[str, Any]]:
        """Every object of a list, page after page (``starting_after`` the last id while ``has_more``)."""
        after: str | None = None
        while True:
            page = self._page(route, {**params, "limit": PAGE_SIZE, "starting_after": after})
            data = [item for item in page.get("data", []) if isinstance(item, dict)]
            yield from data
            if not page.get("has_more") or not data:
                return
            after = str(data[-1]["id"])

    def _page(self, route: str, params: Mapping[str, str | int | None]) -> dict[str, Any]:
        for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
            try:
                page = self._json(self._request("GET", route, params=params))
            except RateLimitError as error:
                if attempt == RATE_LIMIT_ATTEMPTS:
                    raise
                self._sleep(error.retry_after if error.retry_after is not None else FALLBACK_WAIT_SECONDS * attempt)
                continue
            return page if isinstance(page, dict) else {}
        raise AssertionError("unreachable")
