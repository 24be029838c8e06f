"""Variations within the Stripe shapes: expanded fields, odd prices, ordering of same-second events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.providers.conftest import CURRENT, OLD, Story, stripe_event
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers import MappingError, map_stripe_event
from webhook_bridge.providers.stripe.handlers import ordering_version


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


def test_subscription_item_without_recurring_price_is_a_mapping_error(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "customer.subscription.created")
    subscription_object(payload)["items"]["data"][0]["price"]["recurring"] = None
    with pytest.raises(MappingError, match=r"items\.data\.0\.price\.recurring"):
        map_stripe_event(payload, ctx)


def test_invoice_line_names_and_products_fall_back(story: Story, ctx: MappingContext) -> None:
    payload = stripe_event(story.version, "invoice.paid")
    line = payload["data"]["object"]["lines"]["data"][0]
    line["description"] = None
    [action] = map_stripe_event(payload, ctx)
    assert action.invoice is not None
    expected_name = "Pro — mensual por asiento" if story.version == OLD else story.pro_product
    assert action.invoice.items[0].name == expected_name


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
    [action] = map_stripe_event(payload, ctx)
    assert action.invoice is not None
    assert action.invoice.tax == 1000


def test_invoice_without_tax_or_discount_information(ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice.paid")
    for key in ("total_taxes", "total_discount_amounts"):
        del payload["data"]["object"][key]
    [action] = map_stripe_event(payload, ctx)
    assert action.invoice is not None
    assert (action.invoice.tax, action.invoice.discount) == (None, None)


def test_same_second_subscription_events_order_by_type_then_status() -> None:
    second = 1761640861
    created = ordering_version("customer.subscription.created", second, "incomplete")
    activated = ordering_version("customer.subscription.updated", second, "active")
    past_due = ordering_version("customer.subscription.updated", second, "past_due")
    deleted = ordering_version("customer.subscription.deleted", second, "canceled")
    next_second = ordering_version("customer.subscription.created", second + 1, "incomplete")
    assert created < activated < past_due < deleted < next_second


def test_same_second_created_and_updated_order_through_the_mapper(ctx: MappingContext) -> None:
    created = stripe_event(CURRENT, "customer.subscription.created")
    updated = stripe_event(CURRENT, "customer.subscription.updated")
    updated["created"] = created["created"]
    [first] = map_stripe_event(created, ctx)
    [second] = map_stripe_event(updated, ctx)
    assert first.ordering_key == second.ordering_key
    assert first.ordering_version is not None and second.ordering_version is not None
    assert first.ordering_version < second.ordering_version
