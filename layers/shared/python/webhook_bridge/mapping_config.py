"""User configuration of the provider mappings, and the context both mappers run in.

``BRIDGE_MAPPING`` holds JSON (format and examples in docs/mapping.md). It is parsed and
validated once at cold start by ``MappingConfig.from_json``; a mistake stops the function
with a ``MappingConfigError`` naming the offending key, rather than mapping wrongly. An
empty configuration reproduces the default mapping table of docs/mapping.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from webhook_bridge.actions import Action, Attribution, Memberships
from webhook_bridge.attribution import DEFAULT_SOURCES, AttributionField, split_attribution
from webhook_bridge.exceptions import BridgeError
from webhook_bridge.state import (
    IdentityStore,
    InMemoryIdentityStore,
    InMemoryInvoiceMemory,
    InvoiceMemory,
    identity_store,
    invoice_memory,
)
from webhook_bridge.vendors.catalog import Vendor, specs

if TYPE_CHECKING:
    from webhook_bridge.settings import ReceiverSettings

# The default mapping: Stripe event type → name of its track event (None: identify only).
STRIPE_DEFAULT_EVENTS: Mapping[str, str | None] = {
    "customer.created": None,
    "customer.updated": None,
    "checkout.session.completed": "checkout_completed",
    "checkout.session.async_payment_succeeded": "checkout_payment_succeeded",
    "checkout.session.async_payment_failed": "checkout_payment_failed",
    "invoice.paid": "invoice_paid",
    "invoice.payment_failed": "invoice_payment_failed",
    "invoice.upcoming": "invoice_upcoming",
    "charge.refunded": "charge_refunded",
    "charge.dispute.created": "charge_disputed",
    "customer.subscription.created": "subscription_created",
    "customer.subscription.updated": "subscription_updated",
    "customer.subscription.deleted": "subscription_canceled",
    "customer.subscription.paused": "subscription_paused",
    "customer.subscription.resumed": "subscription_resumed",
    "customer.subscription.trial_will_end": "trial_will_end",
}
# Types whose configuration may opt in to erasure (``erase``): off by default, because it
# deletes people at the vendors.
STRIPE_ERASING_EVENTS = frozenset({"customer.deleted"})
TYPEFORM_DEFAULT_EVENT = "form_submitted"
TYPEFORM_DEFAULT_PARTIAL_EVENT = "form_partially_submitted"

EventName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AttributeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Segment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
StripeEventType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]
# A dotted path into the Stripe event's data.object, e.g. "items.data.0.price.nickname".
ObjectPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")]


class MappingConfigError(BridgeError, ValueError):
    """``BRIDGE_MAPPING`` is not valid: raised at cold start, naming every bad key."""


class _Config(BaseModel):
    # Unknown keys are typos until proven otherwise: reject them with their location.
    model_config = ConfigDict(extra="forbid", frozen=True)


class StripeEventConfig(_Config):
    enabled: bool = True
    # Rename the track event; on an identify-only type, add one; on a type without a
    # default mapping, track it (person from the object's customer/email fields).
    event_name: EventName | None = None
    vendors: frozenset[Vendor] | None = None  # None: every enabled vendor
    # Extra track properties: property name → path in data.object. Missing paths are left out.
    properties: dict[AttributeName, ObjectPath] = {}
    # Only on STRIPE_ERASING_EVENTS: delete the person at every vendor that can, and send
    # nothing else (a track event would create the contact again at Loops and Customer.io).
    erase: bool = False

    @model_validator(mode="after")
    def _erasure_sends_nothing_else(self) -> Self:
        if self.erase and (self.event_name is not None or self.properties):
            raise ValueError("erase sends nothing but the erasure: remove event_name and properties")
        return self


class StripeConfig(_Config):
    events: dict[StripeEventType, StripeEventConfig] = {}

    @model_validator(mode="after")
    def _extensions_have_names(self) -> Self:
        for event_type, config in self.events.items():
            if config.erase and event_type not in STRIPE_ERASING_EVENTS:
                raise ValueError(f"stripe event {event_type!r} cannot erase: only {sorted(STRIPE_ERASING_EVENTS)} can")
            unnamed = config.event_name is None and not config.erase
            if event_type not in STRIPE_DEFAULT_EVENTS and config.enabled and unnamed:
                raise ValueError(
                    f"stripe event {event_type!r} has no default mapping: set event_name to track it, or remove it"
                )
        return self

    def erases(self, event_type: str) -> bool:
        """Configuration opted this type in to erasure (and did not disable it)."""
        config = self.events.get(event_type)
        return config is not None and config.enabled and config.erase

    def event(self, event_type: str) -> StripeEventConfig:
        return self.events.get(event_type) or _DEFAULT_STRIPE_EVENT

    def is_mapped(self, event_type: str) -> bool:
        config = self.events.get(event_type)
        if config is None:
            return event_type in STRIPE_DEFAULT_EVENTS
        return config.enabled

    def event_name(self, event_type: str) -> str | None:
        return self.event(event_type).event_name or STRIPE_DEFAULT_EVENTS.get(event_type)


_DEFAULT_STRIPE_EVENT = StripeEventConfig()


class TypeformFormConfig(_Config):
    enabled: bool = True
    event_name: EventName = TYPEFORM_DEFAULT_EVENT
    # Typeform's form_response_partial (a respondent left before submitting): opt-in per form.
    partial_responses: bool = False
    partial_event_name: EventName = TYPEFORM_DEFAULT_PARTIAL_EVENT
    # Field ref (or hidden field name, or "score") → attribute name. The attribute names
    # "first_name" and "last_name" fill the person's name instead of a trait.
    fields: dict[str, AttributeName] = {}
    # Take the respondent's email from the hidden field "email" when no answer gives one.
    # Off by default: a hidden field is whatever the form's URL said, anyone can set it.
    hidden_email: bool = False
    # Lists the respondent joins, by the vendor that keeps them ({"convertloop": ["Onboarded"]}):
    # each vendor's own, so each reaches only the vendors that read it (Person.memberships).
    # A vendor's lists_key (convertloop_segments, segmetrics_tags) is the same entry.
    memberships: dict[Vendor, tuple[Segment, ...]] = {}
    vendors: frozenset[Vendor] | None = None

    @model_validator(mode="before")
    @classmethod
    def _lists_keys(cls, data: Any) -> Any:
        """``"convertloop_segments": [...]`` is ``"memberships": {"convertloop": [...]}``."""
        if not isinstance(data, dict) or not isinstance(data.get("memberships", {}), dict):
            return data
        owners = {spec.lists_key: spec.name for spec in specs() if spec.lists_key}
        keys = [key for key in data if key in owners]
        memberships = dict(data.get("memberships", {}))
        for key in keys:
            if owners[key] in memberships:
                raise ValueError(f"{key} and memberships.{owners[key]} name the same lists: keep one")
            memberships[owners[key]] = data[key]
        if not keys:
            return data
        return {**{key: value for key, value in data.items() if key not in keys}, "memberships": memberships}

    @model_validator(mode="after")
    def _vendors_keep_lists(self) -> Self:
        for vendor in self.memberships:
            if vendor.spec.keeps_lists is None:
                raise ValueError(f"memberships.{vendor}: {vendor.spec.display_name} keeps no lists")
        return self

    def memberships_joined(self) -> dict[str, Memberships]:
        """``Person.memberships``: the lists to join, without repeats."""
        return {
            vendor.value: Memberships(join=tuple(dict.fromkeys(names)))
            for vendor, names in self.memberships.items()
            if names
        }


class TypeformConfig(_Config):
    # Applies to every form; a form's own entry overrides the keys it sets (fields are merged).
    default: TypeformFormConfig = TypeformFormConfig()
    forms: dict[Annotated[str, StringConstraints(min_length=1)], TypeformFormConfig] = {}

    def form(self, form_id: str | None) -> TypeformFormConfig:
        own = self.forms.get(form_id) if form_id is not None else None
        if own is None:
            return self.default
        update: dict[str, Any] = {name: getattr(own, name) for name in own.model_fields_set}
        if "fields" in update:
            update["fields"] = {**self.default.fields, **own.fields}
        if "memberships" in update:  # per vendor: a form setting tags keeps the default's segments
            update["memberships"] = {**self.default.memberships, **own.memberships}
        return self.default.model_copy(update=update)


class AttributionConfig(_Config):
    # Typeform hidden field / Checkout Session metadata key → attribution field, over the
    # defaults (attribution.DEFAULT_SOURCES); null turns a default name off.
    fields: dict[AttributeName, AttributionField | None] = {}

    def sources(self) -> dict[str, str | None]:
        return {**DEFAULT_SOURCES, **{name.lower(): field for name, field in self.fields.items()}}

    def split(self, values: Mapping[str, Any]) -> tuple[Attribution, dict[str, Any]]:
        """The attribution among ``values``, and the other values."""
        return split_attribution(values, self.sources())


class MappingConfig(_Config):
    stripe: StripeConfig = StripeConfig()
    typeform: TypeformConfig = TypeformConfig()
    attribution: AttributionConfig = AttributionConfig()

    @classmethod
    def from_json(cls, text: str | None) -> MappingConfig:
        if text is None or not text.strip():
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False, include_context=False)
            ]
            raise MappingConfigError("BRIDGE_MAPPING is invalid: " + "; ".join(problems)) from None

    def vendors_for(self, action: Action) -> set[Vendor] | None:
        """Vendors configuration allows for this action; ``None`` means all (see ``routing.route``)."""
        if action.source == "stripe":
            allowed = self.stripe.event(action.source_event_type).vendors
        else:
            form_id = action.event.properties.get("form_id") if action.event else None
            allowed = self.typeform.form(form_id if isinstance(form_id, str) else None).vendors
        return set(allowed) if allowed is not None else None


@dataclass(frozen=True)
class MappingContext:
    """Everything a mapper needs besides the payload: configuration and memory."""

    config: MappingConfig
    identities: IdentityStore
    invoices: InvoiceMemory

    @classmethod
    def from_settings(cls, settings: ReceiverSettings) -> MappingContext:
        """The receiver's context: ``BRIDGE_MAPPING`` validated, DynamoDB stores on ``STATE_TABLE``."""
        return cls(
            config=MappingConfig.from_json(settings.mapping),
            identities=identity_store(settings.state_table),
            invoices=invoice_memory(settings.state_table),
        )

    @classmethod
    def in_memory(cls, config: MappingConfig | None = None) -> MappingContext:
        return cls(config or MappingConfig(), InMemoryIdentityStore(), InMemoryInvoiceMemory())

    def vendors_for(self, action: Action) -> set[Vendor] | None:
        return self.config.vendors_for(action)
