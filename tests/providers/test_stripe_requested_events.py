"""Events teams ask for: paused / resumed subscriptions, and checkouts settled later by a delayed payment method."""

from __future__ import annotations

import pytest

from tests.providers.conftest import VERSIONS, stripe_event
from webhook_bridge.actions import ActionKind
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers import map_stripe_event
from webhook_bridge.providers.stripe.ordering import subscription_key


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("event_type", "status", "name"),
    [
        ("customer.subscription.paused", "paused", "subscription_paused"),
        ("customer.subscription.resumed", "active", "subscription_resumed"),
    ],
)
def test_a_paused_or_resumed_subscription_sets_its_state_in_order(
    ctx: MappingContext, version, event_type, status, name
):
    payload = stripe_event(version, event_type)
    [action] = map_stripe_event(payload, ctx)
    assert (action.kind, action.identify) == (ActionKind.SUBSCRIPTION, True)
    assert action.event is not None and action.event.name == name
    assert action.person.traits["subscription_status"] == status
    assert action.subscription is not None and (action.subscription.id, action.subscription.status) == (
        payload["data"]["object"]["id"],
        status,
    )
    assert action.ordering_key == subscription_key(payload["data"]["object"]["id"])


@pytest.mark.parametrize("version", VERSIONS)
def test_resumed_outranks_paused_so_a_late_paused_event_is_skipped(ctx: MappingContext, version):
    paused, resumed = (
        map_stripe_event(stripe_event(version, f"customer.subscription.{t}"), ctx)[0] for t in ("paused", "resumed")
    )
    assert paused.ordering_version is not None and resumed.ordering_version is not None
    assert paused.ordering_version < resumed.ordering_version


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("outcome", "name"), [("succeeded", "checkout_payment_succeeded"), ("failed", "checkout_payment_failed")]
)
def test_a_delayed_checkout_payment_is_tracked_with_the_buyer(ctx: MappingContext, version, outcome, name):
    payload = stripe_event(version, f"checkout.session.async_payment_{outcome}")
    session = payload["data"]["object"]
    [action] = map_stripe_event(payload, ctx)
    assert (action.kind, action.identify) == (ActionKind.TRACK, True)
    assert action.person.email == session["customer_details"]["email"].lower()
    assert action.event is not None and action.event.name == name
    assert action.event.properties == {"amount_total": 5929, "currency": session["currency"], "mode": "payment"}
