"""Stripe's API, read-only: the one call the bridge makes, a customer's email.

Used when an action names a Stripe customer whose email no webhook has taught yet
(``delivery/identity.py``). ``STRIPE_API_KEY`` should be a restricted key with read
access to customers only. Same conventions as the vendor clients (``vendors/base.py``):
the shared connection pool, no retries of its own, errors from the vendor error tree,
nothing secret or personal in an error message.
"""

from __future__ import annotations

import httpx

from webhook_bridge.actions import normalize_email
from webhook_bridge.vendors.base import BaseClient
from webhook_bridge.vendors.errors import NotFoundError

DEFAULT_BASE_URL = "https://api.stripe.com/v1"


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
