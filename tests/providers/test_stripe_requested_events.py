"""Events teams ask for: paused / resumed subscriptions, and checkouts settled later by a delayed payment method."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.providers.conftest import CURRENT, FIXTURES, VERSIONS, context, stripe_event
from webhook_bridge.actions import ActionKind
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
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


@pytest.mark.parametrize("version", VERSIONS)
def test_an_upcoming_renewal_is_tracked_for_the_customer_though_the_invoice_has_no_id(ctx: MappingContext, version):
    payload = stripe_event(version, "invoice.upcoming")
    upcoming = payload["data"]["object"]
    assert "id" not in upcoming
    [action] = map_stripe_event(payload, ctx)
    assert (action.kind, action.identify, action.person.stripe_customer_id) == (
        ActionKind.TRACK,
        False,
        upcoming["customer"],
    )
    assert action.event is not None and action.event.name == "invoice_upcoming"
    attempt = datetime.fromtimestamp(upcoming["next_payment_attempt"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert action.event.properties == {
        "amount_due": 8906,
        "currency": upcoming["currency"],
        "next_payment_attempt": attempt,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_a_dispute_is_tracked_for_the_disputed_invoices_person(version):
    ctx = context()
    for event_type in ("invoice.paid", "invoice_payment.paid"):  # basil and later link the payment intent here
        if (FIXTURES / "stripe" / version / f"{event_type}.json").exists():
            map_stripe_event(stripe_event(version, event_type), ctx)
    payload = stripe_event(version, "charge.dispute.created")
    dispute = payload["data"]["object"]
    [action] = map_stripe_event(payload, ctx)
    paid = stripe_event(version, "invoice.paid")["data"]["object"]
    assert (action.kind, action.person.email) == (ActionKind.TRACK, paid["customer_email"].lower())
    assert action.event is not None and action.event.name == "charge_disputed"
    assert action.event.properties == {
        "dispute_id": dispute["id"],
        "amount": 8906,
        "currency": "eur",
        "reason": "fraudulent",
        "status": "needs_response",
    }


def test_a_dispute_of_an_unknown_payment_names_nobody_and_is_ignored(ctx: MappingContext):
    assert map_stripe_event(stripe_event(CURRENT, "charge.dispute.created"), ctx) == []
