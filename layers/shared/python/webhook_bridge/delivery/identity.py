"""The email of an action that names only a Stripe customer, looked up at delivery time.

Every vendor keys a person by email (docs/architecture.md, "Identity"): an action is
never sent under the Stripe id alone. The identity store, taught by customer and
checkout events, answers first; when it does not know the customer and a Stripe key is
configured, Stripe's API is asked, and its answer taught to the store so the other
vendors' deliveries need not ask again. Waiting and dead-lettering are the processor's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from webhook_bridge.observability import logger
from webhook_bridge.providers.stripe.ordering import customer_version
from webhook_bridge.state.base import IdentityStore
from webhook_bridge.stripe_api import StripeCustomers
from webhook_bridge.vendors.exceptions import VendorError

# Version of what the API says: the customer as of now, newer than any event created
# before now and older than a later change (the same second's events win the tie).
_API_EVENT_ID = "api"


class CustomerErased(Exception):
    """The customer was erased: their email is forgotten, and nothing about them is sent."""


class IdentityResolver:
    def __init__(
        self,
        store: IdentityStore,
        stripe: Callable[[], StripeCustomers | None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._stripe = stripe  # called when needed: the key may be configured later (Secrets Manager)
        self._clock = clock

    def email(self, customer_id: str, *, ask_stripe: bool) -> str | None:
        """The email, or ``None`` while unknown; raises ``CustomerErased`` rather than wait
        for (or ask Stripe about) an email that was forgotten on purpose."""
        email = self._store.lookup(customer_id)
        if email:
            return email
        if self._store.forgotten(customer_id):
            raise CustomerErased
        if not ask_stripe:
            return None
        stripe = self._stripe()
        if stripe is None:
            return None
        try:
            email = stripe.email(customer_id)
        except VendorError as error:
            # Stripe being unavailable only postpones: the action waits and asks again.
            logger.warning("stripe customer lookup failed", extra={"error": error.reason})
            return None
        if email:
            self._store.remember(customer_id, email, customer_version(int(self._clock()), _API_EVENT_ID))
        return email
