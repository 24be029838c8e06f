"""What the four adapters share: the result type and the person's identifiers."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhook_bridge.actions import Action, Person
from webhook_bridge.vendors.errors import NotFoundError, RequestValidationError
from webhook_bridge.vendors.wire_formats import flat_scalar, iso_utc


@dataclass
class DeliveryResult:
    """What an adapter did for one action: the calls made (as route templates, no data)."""

    vendor: str
    calls: list[str] = field(default_factory=list)
    duplicate: bool = False  # the vendor said it had already done it (Loops 409)
    skipped: str | None = None  # why nothing was sent, when nothing was

    def record(self, call: str) -> None:
        self.calls.append(call)


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


def scalar_traits(
    traits: Mapping[str, Any],
    *,
    reserved: Collection[str] = (),
    keep_none: bool = False,
    datetime_format: Callable[[datetime], str] = iso_utc,
) -> dict[str, Any]:
    """Traits for vendors whose attributes are scalars; keys the adapter owns are left out."""
    flattened = {
        key: flat_scalar(value, datetime_format=datetime_format) for key, value in traits.items() if key not in reserved
    }
    return flattened if keep_none else {key: value for key, value in flattened.items() if value is not None}


def erase(vendor: str, call: str, delete: Callable[[], object]) -> DeliveryResult:
    """Delete the person at the vendor. A 404 means there is no such contact (never created,
    or deleted by an earlier attempt): the person is erased, which is what was asked."""
    result = DeliveryResult(vendor=vendor)
    try:
        delete()
    except NotFoundError:
        result.duplicate = True
    result.record(call)
    return result
