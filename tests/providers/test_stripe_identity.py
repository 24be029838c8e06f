"""Identity: Stripe objects without an email are resolved through the customer id, never dropped."""

from __future__ import annotations

import pytest

from tests.providers.conftest import CURRENT, EMAIL, OLD, Story, context, stripe_event
from webhook_bridge.actions import Person
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers import map_stripe_event
from webhook_bridge.state import InMemoryIdentityStore


class CountingIdentityStore(InMemoryIdentityStore):
    """Counts calls: a webhook that carries the email must not cost a read."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.writes = 0

    def remember(self, customer_id: str, email: str, as_of: int) -> None:
        self.writes += 1
        super().remember(customer_id, email, as_of)

    def lookup(self, customer_id: str) -> str | None:
        self.lookups += 1
        return super().lookup(customer_id)


@pytest.fixture
def counting() -> tuple[MappingContext, CountingIdentityStore]:
    store = CountingIdentityStore()
    base = context()
    return MappingContext(base.config, store, base.invoices), store


@pytest.mark.parametrize(
    "event_type", ["customer.created", "checkout.session.completed", "invoice.paid", "invoice.payment_failed"]
)
def test_events_carrying_an_email_teach_it_without_reading(
    story: Story, event_type: str, counting: tuple[MappingContext, CountingIdentityStore]
) -> None:
    ctx, store = counting
    map_stripe_event(stripe_event(story.version, event_type), ctx)
    assert store.lookups == 0
    assert store.writes == 1
    assert store.lookup(story.customer) == EMAIL


def test_subscription_before_any_email_goes_out_with_the_customer_id(story: Story, ctx: MappingContext) -> None:
    [action] = map_stripe_event(stripe_event(story.version, "customer.subscription.created"), ctx)
    assert action.person.email is None
    assert action.person.stripe_customer_id == story.customer
    assert action.person.is_identified


def test_subscription_after_checkout_is_resolved(story: Story, ctx: MappingContext) -> None:
    map_stripe_event(stripe_event(story.version, "checkout.session.completed"), ctx)
    [action] = map_stripe_event(stripe_event(story.version, "customer.subscription.deleted"), ctx)
    assert action.person.email == EMAIL


def test_failed_invoice_without_customer_email_is_resolved(story: Story, ctx: MappingContext) -> None:
    map_stripe_event(stripe_event(story.version, "customer.created"), ctx)
    payload = stripe_event(story.version, "invoice.payment_failed")
    payload["data"]["object"]["customer_email"] = None
    [action] = map_stripe_event(payload, ctx)
    assert action.person == Person(email=EMAIL, stripe_customer_id=story.customer)


def test_an_older_event_does_not_undo_an_email_change(story: Story, ctx: MappingContext) -> None:
    changed = stripe_event(story.version, "customer.updated")
    changed["data"]["object"]["email"] = "  Zoe@New.Example "
    map_stripe_event(changed, ctx)
    map_stripe_event(stripe_event(story.version, "customer.created"), ctx)  # delivered late, older
    [action] = map_stripe_event(stripe_event(story.version, "customer.subscription.created"), ctx)
    assert action.person.email == "zoe@new.example"


def test_a_disabled_type_still_teaches_the_identity(story: Story) -> None:
    ctx = context({"stripe": {"events": {"customer.created": {"enabled": False}}}})
    assert map_stripe_event(stripe_event(story.version, "customer.created"), ctx) == []
    [action] = map_stripe_event(stripe_event(story.version, "customer.subscription.created"), ctx)
    assert action.person.email == EMAIL


def test_refund_prefers_the_customers_own_email_over_the_billing_email(story: Story, ctx: MappingContext) -> None:
    map_stripe_event(stripe_event(story.version, "customer.created"), ctx)
    payload = stripe_event(story.version, "charge.refunded")
    payload["data"]["object"]["billing_details"]["email"] = "accounts-payable@example.com"
    [action] = map_stripe_event(payload, ctx)
    assert action.person.email == EMAIL


def test_refund_without_customer_uses_the_billing_email(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "charge.refunded")
    payload["data"]["object"].update(customer=None, billing_details={"email": "Guest@Example.com", "name": "Ñ"})
    [action] = map_stripe_event(payload, ctx)
    assert action.person == Person(email="guest@example.com")


def test_refund_with_nothing_known_still_goes_out(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "charge.refunded")
    payload["data"]["object"].update(customer=None, billing_details={"email": None}, receipt_email=None)
    [action] = map_stripe_event(payload, ctx)
    assert action.person == Person()
    assert action.event is not None


def test_expanded_customer_objects_are_read(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.subscription.updated")
    payload["data"]["object"]["customer"] = {"id": story.customer, "object": "customer", "email": "Z@Example.com"}
    [action] = map_stripe_event(payload, ctx)
    assert action.person.email == "z@example.com"
    assert action.person.stripe_customer_id == story.customer
    assert ctx.identities.lookup(story.customer) == "z@example.com"
