"""Which identifiers of a person a vendor needs before anything is sent."""

from __future__ import annotations

from webhook_bridge.actions import Action, Person
from webhook_bridge.vendors.exceptions import RequestValidationError


def require_identified(vendor: str, action: Action) -> Person:
    """Every vendor needs an email or the Stripe customer id; without either, dead-letter now."""
    person = action.person
    if not person.is_identified:
        raise RequestValidationError(vendor, f"action {action.id} has neither an email nor a Stripe customer id")
    return person


def require_email(vendor: str, action: Action) -> Person:
    """For vendors that key a person by email alone (Loops' document requires it; a
    Customer.io profile under the Stripe id would be a second person). The delivery side
    never sends an action without one (``delivery/identity.py``): this is the last guard."""
    person = action.person
    if not person.email:
        raise RequestValidationError(vendor, f"action {action.id} has no email, which {vendor} requires")
    return person
