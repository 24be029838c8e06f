"""Variations within the Stripe shapes: expanded fields, odd prices, ordering of same-second events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.providers.conftest import CURRENT, OLD, Story, at, stripe_event
from webhook_bridge.actions import Action, Invoice
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.stripe.ordering import subscription_version


def subscription_object(payload: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = payload["data"]["object"]
    return obj


def test_plan_falls_back_to_the_expanded_product_name_then_the_price_id(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.subscription.created")
    price = subscription_object(payload)["items"]["data"][0]["price"]
    price["nickname"] = None
    price["product"] = {"id": story.pro_product, "object": "product", "name": "Pro Ñ"}
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    assert (action.subscription.plan, action.subscription.product_name) == ("Pro Ñ", "Pro Ñ")
    assert action.subscription.product_id == story.pro_product

    price["product"] = story.pro_product
    [action] = map_stripe_event(payload, ctx)
    assert action.person.traits["plan"] == price["id"]


def test_sub_cent_and_tiered_prices(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "customer.subscription.updated")
    items = subscription_object(payload)["items"]["data"]
    items[0]["price"].update(unit_amount=None, unit_amount_decimal="2899.5")  # → 2900 per seat
    items[1]["price"].update(unit_amount=None, unit_amount_decimal=None, billing_scheme="tiered")
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    assert action.subscription.amount == 2900 * 3 + 0


def test_metered_item_without_quantity_counts_once(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "customer.subscription.updated")
    del subscription_object(payload)["items"]["data"][0]["quantity"]
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    assert (action.subscription.amount, action.subscription.quantity) == (2900 + 500, 1)


def test_yearly_every_two_and_scheduled_cancellation(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "customer.subscription.updated")
    obj = subscription_object(payload)
    obj["items"]["data"][0]["price"]["recurring"].update(interval="year", interval_count=2)
    obj.update(cancel_at=1793176861, cancel_at_period_end=True)
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    assert (action.subscription.billing_cycle, action.subscription.frequency) == ("year", 2)
    assert action.subscription.end_date is not None
    assert action.subscription.end_date.isoformat() == "2026-10-28T08:41:01+00:00"
    assert action.subscription.canceled_date is None


def test_cancel_at_period_end_alone_ends_at_the_period_end(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.subscription.updated")
    subscription_object(payload).update(cancel_at=None, cancel_at_period_end=True, canceled_at=story.trial_end)
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    # Still active: scheduled to end (item-level period on basil+, subscription-level before), not canceled.
    assert action.subscription.end_date == at(story.renewal)
    assert action.subscription.canceled_date is None


@pytest.mark.parametrize("status", ["canceled", "incomplete_expired"])
def test_an_ended_subscription_is_dated_by_canceled_at_then_ended_at_then_the_event(
    story: Story, ctx: MappingContext, status: str
) -> None:
    payload = stripe_event(story.version, "customer.subscription.deleted")
    obj = subscription_object(payload)
    obj.update(status=status, cancel_at=story.renewal)
    dates = []
    for fields in ({}, {"canceled_at": None}, {"canceled_at": None, "ended_at": None}):
        obj.update(fields)
        [action] = map_stripe_event(payload, ctx)
        assert action.subscription is not None
        assert action.subscription.end_date is None  # never a date in the past
        dates.append(action.subscription.canceled_date)
    assert dates == [at(story.canceled_at), at(story.canceled_at), at(payload["created"])]


def test_one_off_items_are_not_the_plan_nor_in_the_amount(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "customer.subscription.created")
    items = subscription_object(payload)["items"]["data"]
    items[0]["price"].update(recurring=None, type="one_time")
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is not None
    # The add-on (the first recurring item) is the plan now; the one-off price adds nothing.
    assert (action.subscription.product_id, action.subscription.amount) == (story.addon_product, 500)
    assert action.subscription.plan == items[1]["price"]["id"]


@pytest.mark.parametrize(
    "change",
    [
        lambda items: [item["price"].update(recurring=None) for item in items],
        lambda items: [item.update(price=None) for item in items],
        lambda items: items.clear(),
    ],
    ids=["only-one-off-prices", "no-prices", "no-items"],
)
def test_subscription_without_a_recurring_item_still_identifies_and_tracks(
    change: Any, story: Story, ctx: MappingContext
) -> None:
    payload = stripe_event(story.version, "customer.subscription.updated")
    change(subscription_object(payload)["items"]["data"])
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is None  # nothing SegMetrics could bill on a cycle
    assert (action.identify, action.person.stripe_customer_id) == (True, story.customer)
    assert action.event is not None and action.event.name == "subscription_updated"
    assert action.event.properties["status"] == "active"
    assert action.ordering_key == f"stripe-subscription:{story.subscription}"


def test_subscription_without_items_object_is_accepted(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "customer.subscription.deleted")
    del subscription_object(payload)["items"]
    [action] = map_stripe_event(payload, ctx)
    assert action.subscription is None
    assert action.person.traits == {"subscription_status": "canceled"}


def invoice_of(actions: list[Action]) -> Invoice:
    """The invoice record ``invoice.paid`` maps to (its own action, beside the identify and track)."""
    (invoice,) = [action.invoice for action in actions if action.invoice is not None]
    return invoice


def test_invoice_line_names_and_products_fall_back(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "invoice.paid")
    line = payload["data"]["object"]["lines"]["data"][0]
    line["description"] = None
    invoice = invoice_of(map_stripe_event(payload, ctx))
    expected_name = "Pro — mensual por asiento" if story.version == OLD else story.pro_product
    assert invoice.items[0].name == expected_name


def test_invoice_line_name_prefers_the_product_name_over_the_description(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "invoice.paid")
    line = payload["data"]["object"]["lines"]["data"][0]
    product = {"id": story.pro_product, "object": "product", "name": "Pro"}
    if story.version == OLD:
        line["price"]["product"] = product
    else:
        line["pricing"]["price_details"]["product"] = product
    invoice = invoice_of(map_stripe_event(payload, ctx))
    assert (invoice.items[0].name, invoice.items[0].product_id) == ("Pro", story.pro_product)


def test_current_invoice_line_with_an_expanded_price_is_named_by_its_nickname(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice.paid")
    line = payload["data"]["object"]["lines"]["data"][1]
    details = line["pricing"]["price_details"]
    details["price"] = {"id": details["price"], "object": "price", "nickname": "Soporte", "product": details["product"]}
    invoice = invoice_of(map_stripe_event(payload, ctx))
    assert invoice.items[1].name == "Soporte"
    assert invoice.items[1].product_id == details["product"]


@pytest.mark.parametrize("version", [OLD, CURRENT])
def test_invoice_lines_without_a_price_use_the_description(version: str, ctx: MappingContext) -> None:
    payload = stripe_event(version, "invoice.paid")
    line = payload["data"]["object"]["lines"]["data"][0]
    line.update(price=None, pricing=None, description="Ajuste manual")  # e.g. a one-off invoice item
    invoice = invoice_of(map_stripe_event(payload, ctx))
    assert (invoice.items[0].name, invoice.items[0].product_id) == ("Ajuste manual", None)


def test_invoice_without_lines_still_maps(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice.paid")
    del payload["data"]["object"]["lines"]
    assert invoice_of(map_stripe_event(payload, ctx)).items == ()
    failed = stripe_event(OLD, "invoice.payment_failed")
    failed["data"]["object"]["lines"] = None
    assert len(map_stripe_event(failed, ctx)) == 1


def test_current_invoice_with_included_payments_links_the_payment_intent(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice.paid")
    pi = "pi_3SEoInclude0000000000000"
    payload["data"]["object"]["payments"] = {
        "object": "list",
        "data": [{"id": "inpay_x", "payment": {"type": "payment_intent", "payment_intent": pi}}],
    }
    map_stripe_event(payload, ctx)
    remembered = ctx.invoices.by_payment_intent(pi)
    assert remembered is not None
    assert remembered.invoice.id == payload["data"]["object"]["id"]


def test_old_invoice_tax_falls_back_to_the_tax_amounts(ctx: MappingContext) -> None:
    payload = stripe_event(OLD, "invoice.paid")
    payload["data"]["object"]["tax"] = None
    payload["data"]["object"]["total_tax_amounts"] = [{"amount": 1000, "inclusive": True, "tax_rate": "txr_1"}]
    invoice = invoice_of(map_stripe_event(payload, ctx))
    assert invoice.tax == 1000


def test_invoice_without_tax_or_discount_information(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice.paid")
    for key in ("total_taxes", "total_discount_amounts"):
        del payload["data"]["object"][key]
    invoice = invoice_of(map_stripe_event(payload, ctx))
    assert (invoice.tax, invoice.discount) == (None, None)


def test_same_second_subscription_events_order_by_type_then_status() -> None:
    second = 1761640861
    created = subscription_version("customer.subscription.created", second, "incomplete", "evt_z")
    activated = subscription_version("customer.subscription.updated", second, "active", "evt_y")
    past_due = subscription_version("customer.subscription.updated", second, "past_due", "evt_x")
    next_second = subscription_version("customer.subscription.created", second + 1, "incomplete", "evt_w")
    deleted = subscription_version("customer.subscription.deleted", second, "canceled", "evt_v")
    assert created < activated < past_due < next_second < deleted  # deleted is terminal


def test_same_second_created_and_updated_order_through_the_mapper(ctx: MappingContext) -> None:
    created = stripe_event(CURRENT, "customer.subscription.created")
    updated = stripe_event(CURRENT, "customer.subscription.updated")
    updated["created"] = created["created"]
    [first] = map_stripe_event(created, ctx)
    [second] = map_stripe_event(updated, ctx)
    assert first.ordering_key == second.ordering_key
    assert first.ordering_version is not None and second.ordering_version is not None
    assert first.ordering_version < second.ordering_version
