"""Vendor-neutral actions: what a provider event means for a person.

A provider mapping turns one webhook into a few ``Action``s; the receiver puts one
``VendorMessage`` per (vendor, action) on that vendor's queue; the vendor's adapter
turns the action into the vendor's calls. Actions are plain data so they survive
the trip through SQS unchanged.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from webhook_bridge.exceptions import BridgeError
from webhook_bridge.vendors.catalog import Vendor, former_list_fields

# Control, format (zero-width, bidi overrides), line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

BillingCycle = Literal["year", "month", "week", "day"]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class InvalidEmailError(BridgeError, ValueError):
    """An email with whitespace or control characters: refused, never sent on (or logged)."""


def normalize_email(email: str | None) -> str | None:
    """The form sent to vendors: trimmed and lower-cased, so providers agree on one address.

    ``lower()`` rather than ``casefold()``: case-folding rewrites characters (``ß`` → ``ss``),
    which would turn a real address into another one.
    Control characters anywhere (a line break, a tab, a zero-width space) or whitespace
    inside raise ``InvalidEmailError``: such a value is a forged header or a mangled field,
    and vendors would refuse it. Spaces around it are only trimmed.
    """
    if email is None:
        return None
    if any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in email):
        raise InvalidEmailError("an email contains control characters")
    cleaned = email.strip().lower()
    if any(char.isspace() for char in cleaned):
        raise InvalidEmailError("an email contains whitespace")
    return cleaned or None


class ActionKind(StrEnum):
    IDENTIFY = "identify"
    TRACK = "track"
    INVOICE = "invoice"
    SUBSCRIPTION = "subscription"
    REFUND = "refund"
    # Delete the person at every vendor that can (their specs say so); nothing else.
    ERASE = "erase"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attribution(_Data):
    """Where the person came from: the fields SegMetrics keeps on its contact.

    A field is set only with a value; an absent field is never sent, so an action that
    knows nothing about attribution leaves what a vendor already holds untouched.
    """

    utm_source: NonEmptyText | None = None
    utm_medium: NonEmptyText | None = None
    utm_campaign: NonEmptyText | None = None
    utm_content: NonEmptyText | None = None
    utm_term: NonEmptyText | None = None
    referring_url: NonEmptyText | None = None
    optin_url: NonEmptyText | None = None
    ip_address: NonEmptyText | None = None

    def known(self) -> dict[str, str]:
        """The fields that are set, by their SegMetrics names."""
        return self.model_dump(exclude_none=True)


class Memberships(_Data):
    """Named lists (segments, tags...) a person joins and leaves at a vendor that keeps them."""

    join: tuple[str, ...] = ()
    leave: tuple[str, ...] = ()


class Person(_Data):
    """Who the action is about, and what we know of them."""

    email: str | None = None
    stripe_customer_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    # Contact attributes to set (snake_case keys), e.g. subscription_status, Typeform answers.
    traits: dict[str, Any] = Field(default_factory=dict)
    # Lists to join and leave, per configuration, keyed by the vendor that keeps them (its
    # spec's ``keeps_lists``). Which vendors are sent whose lists is each spec's ``lists_read``.
    memberships: dict[str, Memberships] = Field(default_factory=dict)
    attribution: Attribution = Attribution()

    _normalize_email = field_validator("email")(lambda cls, v: normalize_email(v))

    @model_validator(mode="before")
    @classmethod
    def _former_list_fields(cls, data: Any) -> Any:
        """Messages queued and ledger snapshots stored before ``memberships`` (kept for up to
        400 days) carry each vendor's lists in fields of their own, which that vendor's spec
        names (``former_person_fields``): the same memberships."""
        if not isinstance(data, dict) or "memberships" in data or data.keys() <= _PERSON_FIELDS:
            return data
        former = former_list_fields()
        moved = [name for name in data if name in former]
        memberships: dict[str, dict[str, Any]] = {}
        for name in moved:
            vendor, side = former[name]
            if data[name]:
                memberships.setdefault(vendor, {})[side] = data[name]
        # Any other unknown field is left in place, to be refused as ever.
        return {**{name: value for name, value in data.items() if name not in moved}, "memberships": memberships}

    def memberships_at(self, vendors: Iterable[str]) -> Memberships:
        """The lists of ``vendors`` to join and leave, in that order, without repeats."""
        held = [self.memberships[vendor] for vendor in vendors if vendor in self.memberships]
        return Memberships(
            join=tuple(dict.fromkeys(name for lists in held for name in lists.join)),
            leave=tuple(dict.fromkeys(name for lists in held for name in lists.leave)),
        )

    @property
    def attributes(self) -> dict[str, Any]:
        """Contact attributes for vendors without attribution fields of their own: the traits,
        and the attribution that is known under its own names."""
        return {**self.traits, **self.attribution.known()}

    @property
    def is_identified(self) -> bool:
        return bool(self.email or self.stripe_customer_id)


_PERSON_FIELDS = frozenset(Person.model_fields)


class TrackEvent(_Data):
    name: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)


class InvoiceItem(_Data):
    id: str | None = None
    name: str
    product_id: str | None = None
    amount: int  # smallest currency unit
    subscription_id: str | None = None


class Invoice(_Data):
    id: str
    amount: int  # total, smallest currency unit
    paid: int
    currency: str
    date_created: datetime
    items: tuple[InvoiceItem, ...] = ()
    discount: int | None = None
    tax: int | None = None
    is_refunded: bool = False
    subscription_id: str | None = None


class Subscription(_Data):
    id: str
    status: str
    plan: str | None = None
    amount: int  # unit amount x quantity, smallest currency unit
    currency: str | None = None
    product_id: str
    product_name: str | None = None
    quantity: int = 1
    start_date: datetime
    last_bill_date: datetime
    billing_cycle: BillingCycle
    frequency: int = Field(ge=1)
    trial_end_date: datetime | None = None
    canceled_date: datetime | None = None
    end_date: datetime | None = None


class Action(_Data):
    """One thing that happened to a person, independent of any vendor."""

    id: str  # deterministic: the same provider event always yields the same ids
    kind: ActionKind
    source: Literal["stripe", "typeform"]
    source_event_id: str
    source_event_type: str
    occurred_at: datetime
    person: Person
    identify: bool = False  # set the person's traits at the vendor
    event: TrackEvent | None = None
    invoice: Invoice | None = None
    subscription: Subscription | None = None
    # Convergence (delivery/ordering.py): actions with the same ordering_key describe one
    # object's state (a subscription, a customer); vendors are always sent the state of
    # the highest version. Versions compare as strings and are total: no two events tie.
    ordering_key: str | None = None
    ordering_version: str | None = None

    @staticmethod
    def make_id(source: str, source_event_id: str, index: int) -> str:
        return f"{source}:{source_event_id}:{index}"


class VendorMessage(_Data):
    """The body of one SQS message: one action for one vendor."""

    vendor: Vendor
    action: Action
    # A sync (delivery/ordering.py): send the newest state even when the vendor is recorded
    # as holding it, because an older state may have landed after it.
    resend_state: bool = False

    @property
    def dedupe_key(self) -> str:
        return self.dedupe_key_of(self.vendor.value, self.action.id)

    @staticmethod
    def dedupe_key_of(vendor: str, action_id: str) -> str:
        """Exactly once per (vendor, action): the delivery's idempotency key."""
        return f"{vendor}:{action_id}"

    @property
    def idempotency_token(self) -> str:
        """Stable across retries; short enough for any vendor's idempotency header."""
        return hashlib.sha256(self.dedupe_key.encode()).hexdigest()[:40]
