"""Identity: Stripe objects without an email are resolved through the customer id, never dropped."""

from __future__ import annotations

import pytest

from tests.providers.conftest import CURRENT, EMAIL, OLD, STORIES, Story, context, stripe_event
from webhook_bridge.actions import Person
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.state import InMemoryIdentityStore


class CountingIdentityStore(InMemoryIdentityStore):
    """Counts calls: a webhook that carries the email must not cost a read."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.writes = 0

    def remember(self, customer_id: str, email: str, version: str) -> None:
        self.writes += 1
        super().remember(customer_id, email, version)

    def lookup(self, customer_id: str) -> str | None:
        self.lookups += 1
        return super().lookup(customer_id)


@pytest.fixture
def counting() -> tuple[MappingContext, CountingIdentityStore]:
    store = CountingIdentityStore()
    base = context()
    return MappingContext(base.config, store, base.invoices), store


@pytest.mark.parametrize("event_type", ["customer.created", "checkout.session.completed"])
def test_events_carrying_an_email_teach_it_without_reading(
    story: Story, event_type: str, counting: tuple[MappingContext, CountingIdentityStore]
) -> None:
    ctx, store = counting
    map_stripe_event(stripe_event(story.version, event_type), ctx)
    assert store.lookups == 0
    assert store.writes == 1
    assert store.lookup(story.customer) == EMAIL


@pytest.mark.parametrize("event_type", ["invoice.paid", "invoice.payment_failed"])
def test_an_invoices_frozen_customer_email_teaches_nothing_and_yields_to_the_customers_own(
    story: Story, event_type: str, ctx: MappingContext
) -> None:
    changed = stripe_event(story.version, "customer.updated")
    changed["data"]["object"]["email"] = "zoe@new.example"
    map_stripe_event(changed, ctx)
    invoice = stripe_event(story.version, event_type)
    invoice["created"] = changed["created"] + 3600  # a newer event, with the email frozen at finalization
    actions = map_stripe_event(invoice, ctx)  # invoice.paid: the identify and track, then the invoice record
    assert {action.person.email for action in actions} == {"zoe@new.example"}
    assert ctx.identities.lookup(story.customer) == "zoe@new.example"


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


def test_refund_with_nothing_known_maps_to_nothing(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "charge.refunded")
    payload["data"]["object"].update(customer=None, billing_details={"email": None}, receipt_email=None)
    # No email and no customer id: every vendor would refuse it, so it is not an action.
    assert map_stripe_event(payload, ctx) == []


def test_refund_of_a_remembered_invoice_without_email_goes_out_with_its_customer(ctx: MappingContext) -> None:
    paid = stripe_event(OLD, "invoice.paid")
    paid["data"]["object"]["customer_email"] = None
    map_stripe_event(paid, ctx)
    refund = stripe_event(OLD, "charge.refunded")
    refund["data"]["object"].update(customer=None, billing_details={"email": None}, receipt_email=None)
    [track, record] = map_stripe_event(refund, ctx)
    assert track.person == record.person == Person(stripe_customer_id=STORIES[OLD].customer)
    assert record.invoice is not None and record.invoice.is_refunded


ANONYMOUS = {
    # event type → the change that leaves its object without an email and without a customer
    "checkout.session.completed": {"customer": None, "customer_details": None, "customer_email": None},
    "invoice.paid": {"customer": None, "customer_email": None},
    "invoice.payment_failed": {"customer": None, "customer_email": None},
    "charge.refunded": {"customer": None, "billing_details": {"email": None}, "receipt_email": None},
    "customer.subscription.created": {"customer": None},
    "customer.subscription.updated": {"customer": None},
    "customer.subscription.deleted": {"customer": None},
    "customer.subscription.trial_will_end": {"customer": None},
}


@pytest.mark.parametrize("event_type", sorted(ANONYMOUS))
def test_events_naming_nobody_map_to_nothing(story: Story, event_type: str, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, event_type)
    payload["data"]["object"].update(ANONYMOUS[event_type])
    assert map_stripe_event(payload, ctx) == []


def test_guest_checkout_with_an_email_still_goes_out(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "checkout.session.completed")
    payload["data"]["object"].update(customer=None, customer_details=None, customer_email="Guest@Example.com")
    [action] = map_stripe_event(payload, ctx)
    assert action.person == Person(email="guest@example.com")


def test_a_guest_checkout_names_its_guest(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "checkout.session.completed")
    payload["data"]["object"].update(customer=None)
    payload["data"]["object"]["customer_details"].update(email="guest@example.com", name="Ada Lovelace")
    [action] = map_stripe_event(payload, ctx)
    assert (action.person.first_name, action.person.last_name) == ("Ada", "Lovelace")


def test_anonymous_paid_invoice_is_still_remembered(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "invoice.paid")
    payload["data"]["object"].update(ANONYMOUS["invoice.paid"])
    assert map_stripe_event(payload, ctx) == []
    assert ctx.invoices.by_invoice_id(STORIES[OLD].invoice) is not None


def test_extension_naming_nobody_maps_to_nothing() -> None:
    ctx = context({"stripe": {"events": {"payment_intent.succeeded": {"event_name": "payment_succeeded"}}}})
    payload = stripe_event(CURRENT, "invoice_payment.paid")
    payload.update(type="payment_intent.succeeded")
    payload["data"]["object"] = {"id": "pi_1", "object": "payment_intent", "customer": None, "receipt_email": None}
    assert map_stripe_event(payload, ctx) == []


def test_emails_keep_their_characters_and_are_lower_cased(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.updated")
    payload["data"]["object"]["email"] = " Straße@Example.DE "
    [action] = map_stripe_event(payload, ctx)
    # lower(), not casefold(): "strasse@…" would be another mailbox.
    assert action.person.email == "straße@example.de"
    assert ctx.identities.lookup(story.customer) == "straße@example.de"
    [subscription] = map_stripe_event(stripe_event(story.version, "customer.subscription.created"), ctx)
    assert subscription.person.email == "straße@example.de"


def test_expanded_customer_objects_are_read(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.subscription.updated")
    payload["data"]["object"]["customer"] = {"id": story.customer, "object": "customer", "email": "Z@Example.com"}
    [action] = map_stripe_event(payload, ctx)
    assert action.person.email == "z@example.com"
    assert action.person.stripe_customer_id == story.customer
    assert ctx.identities.lookup(story.customer) == "z@example.com"
