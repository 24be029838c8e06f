"""customer.deleted: nothing by default; with ``erase`` opted in, one erase action, the
remembered email forgotten, and a version no other event of the customer can outrank."""

from __future__ import annotations

import json

import pytest

from tests.providers.conftest import EMAIL, STORIES, VERSIONS, context, stripe_event
from webhook_bridge.actions import ActionKind, Person
from webhook_bridge.mapping_config import MappingConfig, MappingConfigError
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.stripe.ordering import customer_key
from webhook_bridge.routing import route
from webhook_bridge.vendors.catalog import Vendor, vendors

ERASE = {"stripe": {"events": {"customer.deleted": {"erase": True}}}}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_deleted_customer_is_left_alone_unless_erasure_is_turned_on(version):
    ctx = context()
    map_stripe_event(stripe_event(version, "customer.created"), ctx)
    assert map_stripe_event(stripe_event(version, "customer.deleted"), ctx) == []
    # Nothing is forgotten either: later subscription events still reach the vendors.
    assert ctx.identities.lookup(STORIES[version].customer) == EMAIL


@pytest.mark.parametrize("version", VERSIONS)
def test_opted_in_a_deleted_customer_is_erased_at_every_vendor_that_can(version):
    ctx = context(ERASE)
    payload = stripe_event(version, "customer.deleted")
    [action] = map_stripe_event(payload, ctx)
    customer = STORIES[version].customer
    assert action.kind is ActionKind.ERASE
    # The email and the Stripe id, nothing else: no traits, no event, no records to set.
    assert action.person == Person(email=EMAIL, stripe_customer_id=customer)
    assert (action.identify, action.event, action.invoice, action.subscription) == (False, None, None, None)
    assert action.ordering_key == customer_key(customer)
    assert route(action, list(vendors())) == [Vendor("loops"), Vendor("customerio"), Vendor("segmetrics")]
    assert route(action, list(vendors()), ctx.vendors_for(action)) == [
        Vendor("loops"),
        Vendor("customerio"),
        Vendor("segmetrics"),
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_erase_outranks_every_other_state_of_the_customer_even_a_later_one(version):
    ctx = context(ERASE)
    [erase] = map_stripe_event(stripe_event(version, "customer.deleted"), ctx)
    updated = stripe_event(version, "customer.updated")
    updated["created"] = stripe_event(version, "customer.deleted")["created"] + 3600  # a clock skewed late
    [late] = map_stripe_event(updated, context())
    assert late.ordering_key == erase.ordering_key
    assert late.ordering_version is not None and erase.ordering_version is not None
    assert erase.ordering_version > late.ordering_version


@pytest.mark.parametrize("version", VERSIONS)
def test_the_email_is_forgotten_and_a_late_customer_event_cannot_teach_it_again(version):
    ctx = context(ERASE)
    customer = STORIES[version].customer
    map_stripe_event(stripe_event(version, "customer.created"), ctx)
    map_stripe_event(stripe_event(version, "customer.deleted"), ctx)
    assert ctx.identities.lookup(customer) is None
    # Deleted before updated: Stripe's late delivery of the rename teaches nothing.
    map_stripe_event(stripe_event(version, "customer.updated"), ctx)
    assert ctx.identities.lookup(customer) is None
    # A subscription event now names the customer id only: the delivery side drops it.
    [subscription] = map_stripe_event(stripe_event(version, "customer.subscription.deleted"), ctx)
    assert (subscription.person.email, subscription.person.stripe_customer_id) == (None, customer)


def test_without_an_email_on_the_object_the_remembered_one_is_erased():
    ctx = context(ERASE)
    map_stripe_event(stripe_event(VERSIONS[1], "customer.created"), ctx)
    payload = stripe_event(VERSIONS[1], "customer.deleted")
    payload["data"]["object"]["email"] = None
    [action] = map_stripe_event(payload, ctx)
    assert action.person.email == EMAIL


def test_a_customer_nobody_knows_an_email_for_maps_to_nothing_but_is_still_forgotten():
    ctx = context(ERASE)
    payload = stripe_event(VERSIONS[1], "customer.deleted")
    payload["data"]["object"]["email"] = None
    assert map_stripe_event(payload, ctx) == []
    map_stripe_event(stripe_event(VERSIONS[1], "customer.updated"), ctx)  # late, older
    assert ctx.identities.lookup(STORIES[VERSIONS[1]].customer) is None


def test_deleted_twice_is_one_erasure():
    ctx = context(ERASE)
    payload = stripe_event(VERSIONS[1], "customer.deleted")
    first, second = map_stripe_event(payload, ctx), map_stripe_event(payload, ctx)
    # The same ids and version: the receiver and every vendor's delivery deduplicate it.
    assert first == second
    assert [action.id for action in first] == [f"stripe:{payload['id']}:0"]


def test_erasure_can_be_limited_to_some_vendors_and_turned_off_again():
    config = {"stripe": {"events": {"customer.deleted": {"erase": True, "vendors": ["segmetrics"]}}}}
    ctx = context(config)
    [action] = map_stripe_event(stripe_event(VERSIONS[1], "customer.deleted"), ctx)
    assert route(action, list(vendors()), ctx.vendors_for(action)) == [Vendor("segmetrics")]
    off = context({"stripe": {"events": {"customer.deleted": {"erase": True, "enabled": False}}}})
    assert map_stripe_event(stripe_event(VERSIONS[1], "customer.deleted"), off) == []


def test_tracking_a_deletion_is_not_erasing_it():
    ctx = context({"stripe": {"events": {"customer.deleted": {"event_name": "customer_deleted"}}}})
    [action] = map_stripe_event(stripe_event(VERSIONS[1], "customer.deleted"), ctx)
    assert action.kind is ActionKind.TRACK
    assert action.event is not None and action.event.name == "customer_deleted"


@pytest.mark.parametrize(
    ("events", "complaint"),
    [
        ({"customer.updated": {"erase": True}}, "cannot erase"),
        ({"customer.deleted": {"erase": True, "event_name": "gone"}}, "sends nothing but the erasure"),
        ({"customer.deleted": {"erase": True, "properties": {"x": "id"}}}, "sends nothing but the erasure"),
        ({"customer.deleted": {"erase": "yes please"}}, "customer.deleted.erase"),
    ],
)
def test_erasure_configured_wrongly_stops_the_cold_start(events, complaint):
    with pytest.raises(MappingConfigError, match=complaint):
        MappingConfig.from_json(json.dumps({"stripe": {"events": events}}))
