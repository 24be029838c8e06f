"""Filling in a person's email at delivery time from the Stripe customer id → email memory."""

from __future__ import annotations

from collections.abc import Callable

from webhook_bridge.actions import VendorMessage


def identity_resolver(state_table: str) -> Callable[[VendorMessage], VendorMessage | None]:
    from webhook_bridge.state import identity_store  # the store lives with the provider mappings

    store = identity_store(state_table)

    def resolve(message: VendorMessage) -> VendorMessage | None:
        customer_id = message.action.person.stripe_customer_id
        email = store.lookup(customer_id) if customer_id else None
        if not email:
            return None
        person = message.action.person.model_copy(update={"email": email})
        return message.model_copy(update={"action": message.action.model_copy(update={"person": person})})

    return resolve
