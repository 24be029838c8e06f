"""Per-event helpers: configuration lookups, identity resolution and ``Action`` assembly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook_bridge.actions import Action, ActionKind, Invoice, Person, TrackEvent, normalize_email
from webhook_bridge.mapping_config import MappingContext, StripeEventConfig
from webhook_bridge.providers.payload import get_path
from webhook_bridge.providers.stripe.models import CustomerRef, ExpandableCustomer, StripeEvent, ref_id
from webhook_bridge.providers.stripe.ordering import customer_version, invoice_key
from webhook_bridge.providers.timestamps import utc
from webhook_bridge.state import HeldEvent

# The id prefix of the events ``bridgectl import stripe`` makes from existing objects.
IMPORTED_EVENT_PREFIX = "evt_import_"
# An event's invoice record is its second action (``Action.make_id``'s index): the first is its own.
INVOICE_RECORD_INDEX = 1


@dataclass(frozen=True)
class Emitter:
    event: StripeEvent
    ctx: MappingContext

    @property
    def config(self) -> StripeEventConfig:
        return self.ctx.config.stripe.event(self.event.type)

    @property
    def enabled(self) -> bool:
        return self.ctx.config.stripe.is_mapped(self.event.type)

    # -- identity -------------------------------------------------------------------
    def learn_identity(self, customer: ExpandableCustomer, email: str | None) -> None:
        """Remember ``customer id → email`` when the event states both with authority
        (a customer object, a checkout): one conditional write, versioned like customer state."""
        customer_id = ref_id(customer)
        email = normalize_email(email) or _expanded_email(customer)
        if customer_id and email:
            self.ctx.identities.remember(customer_id, email, customer_version(self.event.created, self.event.id))

    def person(
        self,
        customer: ExpandableCustomer,
        email: str | None,
        *,
        prefer_store: bool = False,
        **fields: Any,
    ) -> Person:
        """Who the event is about. The identity store is read only when the email is missing,
        or when the carried email is weaker than the customer's own (``prefer_store``)."""
        customer_id = ref_id(customer)
        resolved = normalize_email(email) or _expanded_email(customer)
        if customer_id and (resolved is None or prefer_store):
            resolved = self.ctx.identities.lookup(customer_id) or resolved
        # Without any email the action still goes out with the customer id: the delivery
        # side waits for the email, asks Stripe, and dead-letters it as identity_unknown.
        return Person(email=resolved, stripe_customer_id=customer_id, **fields)

    # -- actions --------------------------------------------------------------------
    @property
    def imported(self) -> bool:
        return self.event.id.startswith(IMPORTED_EVENT_PREFIX)

    def track(self, properties: dict[str, Any]) -> TrackEvent | None:
        name = self.ctx.config.stripe.event_name(self.event.type)
        # An imported object is state a team already had, not something that happened now:
        # it sets contacts and subscriptions, and tracks nothing that could start automations.
        if name is None or self.imported:
            return None
        extra = {key: get_path(self.event.data.object, path) for key, path in self.config.properties.items()}
        return TrackEvent(name=name, properties={**properties, **{k: v for k, v in extra.items() if v is not None}})

    def actions(self, kind: ActionKind, person: Person, **fields: Any) -> list[Action]:
        """The event's action, or none when it names nobody.

        Without an email and without a Stripe customer id (e.g. a guest checkout whose
        ``customer_details`` is null) every vendor would refuse the action and it would
        end in each DLQ: map it to nothing instead, so the receiver answers 2xx and counts
        the event as ignored.
        """
        return self.actions_of(self.origin, kind, person, **fields)

    @property
    def origin(self) -> HeldEvent:
        """This event, as a refund or dispute held for later names it."""
        return HeldEvent(event_id=self.event.id, event_type=self.event.type, created=self.event.created)

    @staticmethod
    def actions_of(
        origin: HeldEvent, kind: ActionKind, person: Person, *, index: int = 0, **fields: Any
    ) -> list[Action]:
        """``actions`` of another event: a refund or dispute held until its invoice was known
        (``held.py``) goes out under its own event's id, type and time."""
        if not person.is_identified:
            return []
        return [
            Action(
                id=Action.make_id("stripe", origin.event_id, index),
                kind=kind,
                source="stripe",
                source_event_id=origin.event_id,
                source_event_type=origin.event_type,
                occurred_at=utc(origin.created),
                person=person,
                **fields,
            )
        ]


def invoice_record(origin: HeldEvent, kind: ActionKind, person: Person, invoice: Invoice, version: str) -> list[Action]:
    """The invoice record alone, as ``origin`` (``invoice.paid``, a refund) leaves it, ordered
    under the invoice's own key. Only vendors that keep invoice records take it (their spec's
    ``handles``), so the invoice's order decides nothing else: the event's own action (its
    track and identify, index 0) goes out unordered beside it. The ledger keeps no name: the
    record names its person by email and Stripe id only."""
    who = Person(email=person.email, stripe_customer_id=person.stripe_customer_id)
    return Emitter.actions_of(
        origin,
        kind,
        who,
        index=INVOICE_RECORD_INDEX,
        invoice=invoice,
        ordering_key=invoice_key(invoice.id),
        ordering_version=version,
    )


def _expanded_email(customer: ExpandableCustomer) -> str | None:
    return normalize_email(customer.email) if isinstance(customer, CustomerRef) else None
