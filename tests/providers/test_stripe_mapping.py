"""Every mapped Stripe event type, in the old and the current API shape, to its exact actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.providers.conftest import (
    CURRENT,
    DISCOUNT,
    EMAIL,
    OLD,
    SUBTOTAL,
    TAX,
    TOTAL,
    Story,
    at,
    stripe_event,
)
from webhook_bridge.actions import Action, ActionKind, Invoice, InvoiceItem, Person, Subscription, TrackEvent
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event

PLAN = "Pro — mensual por asiento"


def mapped(version: str, event_type: str, ctx: MappingContext) -> tuple[dict[str, Any], list[Action]]:
    payload = stripe_event(version, event_type)
    return payload, map_stripe_event(payload, ctx)


def expected(payload: dict[str, Any], kind: ActionKind, person: Person, index: int = 0, **fields: Any) -> Action:
    return Action(
        id=f"stripe:{payload['id']}:{index}",
        kind=kind,
        source="stripe",
        source_event_id=payload["id"],
        source_event_type=payload["type"],
        occurred_at=at(payload["created"]),
        person=person,
        **fields,
    )


def paid_invoice(story: Story, **changes: Any) -> Invoice:
    invoice = Invoice(
        id=story.invoice,
        amount=TOTAL,
        paid=TOTAL,
        currency="eur",
        date_created=at(story.paid_at),  # paid_at, not the draft's creation an hour earlier
        items=(
            InvoiceItem(
                id=story.lines[0],
                # The price's nickname names the product (old lines carry the price); basil lines
                # name only ids, so Stripe's description stands in.
                name=PLAN if story.version == OLD else "3 × Pro (at €29.00 / month)",  # noqa: RUF001 (Stripe's sign)
                product_id=story.pro_product,
                amount=2900 * 3,
                subscription_id=story.subscription,
            ),
            InvoiceItem(
                id=story.lines[1],
                name="1 × Soporte prioritario (at €5.00 / month)",  # noqa: RUF001 (no nickname, product not expanded)
                product_id=story.addon_product,
                amount=500,
                subscription_id=story.subscription,
            ),
        ),
        discount=DISCOUNT,
        tax=TAX,
        subscription_id=story.subscription,
    )
    return invoice.model_copy(update=changes)


def only_action(story: Story, ctx: MappingContext, event_type: str, kind: ActionKind, **fields: Any) -> Action:
    """The one action ``event_type`` maps to, asserted whole (by default for the customer, by email)."""
    payload, actions = mapped(story.version, event_type, ctx)
    fields.setdefault("person", Person(email=EMAIL, stripe_customer_id=story.customer))
    assert actions == [expected(payload, kind, **fields)]
    return actions[0]


@pytest.mark.parametrize(
    ("event_type", "last_name"), [("customer.created", "Ñúñez García"), ("customer.updated", "Ñúñez-García")]
)
def test_customer_events_identify_with_the_split_unicode_name(
    story: Story, ctx: MappingContext, event_type: str, last_name: str
) -> None:
    payload, actions = mapped(story.version, event_type, ctx)
    assert actions == [
        expected(
            payload,
            ActionKind.IDENTIFY,
            Person(
                email=EMAIL,
                stripe_customer_id=story.customer,
                first_name="Zoë",
                last_name=last_name,
                traits={"stripe_customer_id": story.customer},
            ),
            identify=True,
            ordering_key=f"stripe-customer:{story.customer}",
            ordering_version=f"0.{payload['created']:012d}.0.0.{payload['id']}",
        )
    ]


def test_the_action_is_named_and_dated_by_its_event(story: Story, ctx: MappingContext) -> None:
    payload, [action] = mapped(story.version, "customer.created", ctx)
    assert action.id == f"stripe:{payload['id']}:0"
    assert (
        action.occurred_at.isoformat()
        == {OLD: "2024-09-26T08:00:01+00:00", CURRENT: "2025-10-14T08:40:01+00:00"}[story.version]
    )


def test_checkout_completed_is_one_identifying_track(story: Story, ctx: MappingContext) -> None:
    # No name: the customer object's is the one, the checkout's copy would undo a rename.
    only_action(
        story,
        ctx,
        "checkout.session.completed",
        ActionKind.TRACK,
        identify=True,
        event=TrackEvent(
            name="checkout_completed",
            properties={"amount_total": 0, "currency": "eur", "mode": "subscription"},  # trial: nothing charged
        ),
    )


def test_invoice_paid_carries_the_segmetrics_invoice(story: Story, ctx: MappingContext) -> None:
    # No name: the one frozen on the invoice is not sent.
    payload, actions = mapped(story.version, "invoice.paid", ctx)
    event = TrackEvent(
        name="invoice_paid", properties={"invoice_id": story.invoice, "amount_paid": TOTAL, "currency": "eur"}
    )
    person = Person(email=EMAIL, stripe_customer_id=story.customer)
    invoice = paid_invoice(story)
    assert actions == [
        expected(payload, ActionKind.INVOICE, person, identify=True, event=event),  # unordered, as any identify
        invoice_record(story, payload, ActionKind.INVOICE, invoice, refunded=False, amount_refunded=0),
    ]
    assert sum(item.amount for item in invoice.items) == SUBTOTAL


def invoice_record(
    story: Story, payload: dict[str, Any], kind: ActionKind, invoice: Invoice, *, refunded: bool, amount_refunded: int
) -> Action:
    """The event's second action: the invoice record alone, named by email and Stripe id only, under
    the invoice's key; its version is the refund progress, then created, then event id."""
    return expected(
        payload,
        kind,
        Person(email=EMAIL, stripe_customer_id=story.customer),
        index=1,
        invoice=invoice,
        ordering_key=f"stripe-invoice:{story.invoice}",
        ordering_version=f"0.{int(refunded)}.{amount_refunded:015d}.{payload['created']:012d}.{payload['id']}",
    )


def test_invoice_payment_failed_is_a_plain_track(story: Story, ctx: MappingContext) -> None:
    action = only_action(
        story,
        ctx,
        "invoice.payment_failed",
        ActionKind.TRACK,
        event=TrackEvent(
            name="invoice_payment_failed",
            properties={"invoice_id": story.failed_invoice, "amount_due": TOTAL, "currency": "eur", "attempt_count": 1},
        ),
    )
    assert action.identify is False


def pay_first_invoice(story: Story, ctx: MappingContext) -> None:
    map_stripe_event(stripe_event(story.version, "invoice.paid"), ctx)
    if story.version == CURRENT:  # basil+: only this event links the payment intent to the invoice
        assert map_stripe_event(stripe_event(story.version, "invoice_payment.paid"), ctx) == []


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered-invoice", "unknown-invoice"])
def test_a_refund_flags_the_remembered_invoice_refunded_or_goes_out_without(
    story: Story, ctx: MappingContext, remembered: bool
) -> None:
    if remembered:
        pay_first_invoice(story, ctx)
    # Nothing remembered: no invoice to flag, and the billing email stands in for the customer's.
    payload, actions = mapped(story.version, "charge.refunded", ctx)
    event = TrackEvent(name="charge_refunded", properties={"amount_refunded": TOTAL, "currency": "eur"})
    person = Person(email=EMAIL, stripe_customer_id=story.customer)
    refunded = paid_invoice(story, is_refunded=True)
    record = [invoice_record(story, payload, ActionKind.REFUND, refunded, refunded=True, amount_refunded=TOTAL)]
    assert actions == [expected(payload, ActionKind.REFUND, person, event=event), *(record if remembered else [])]


def test_partial_refund_lowers_what_was_paid(story: Story, ctx: MappingContext) -> None:
    pay_first_invoice(story, ctx)
    payload = stripe_event(story.version, "charge.refunded")
    payload["data"]["object"].update(amount_refunded=2000, refunded=False)
    [refund, record] = map_stripe_event(payload, ctx)
    assert record.invoice == paid_invoice(story, paid=TOTAL - 2000)
    assert refund.event == TrackEvent(name="charge_refunded", properties={"amount_refunded": 2000, "currency": "eur"})


def test_current_api_refund_without_the_payment_link_has_no_invoice(ctx: MappingContext) -> None:
    map_stripe_event(stripe_event(CURRENT, "invoice.paid"), ctx)  # invoice_payment.paid never arrived
    [action] = map_stripe_event(stripe_event(CURRENT, "charge.refunded"), ctx)
    assert action.invoice is None


def subscription(story: Story, status: str, **changes: Any) -> Subscription:
    value = Subscription(
        id=story.subscription,
        status=status,
        plan=PLAN,
        amount=2900 * 3 + 500 * 1,
        currency="eur",
        product_id=story.pro_product,
        product_name=PLAN,  # the price's nickname: the product is not expanded in webhooks
        quantity=3,
        start_date=at(story.trial_start),
        last_bill_date=at(story.trial_start),
        billing_cycle="month",
        frequency=1,
        trial_end_date=at(story.trial_end),
    )
    return value.model_copy(update=changes)


def subscription_action(payload: dict[str, Any], story: Story, sub: Subscription, name: str, rank: int) -> Action:
    return expected(
        payload,
        ActionKind.SUBSCRIPTION,
        Person(
            email=EMAIL,  # resolved through the identity store: subscriptions carry no email
            stripe_customer_id=story.customer,
            traits={"subscription_status": sub.status, "plan": PLAN},
        ),
        identify=True,
        event=TrackEvent(
            name=name,
            properties={
                "subscription_id": story.subscription,
                "status": sub.status,
                "plan": PLAN,
                "amount": 9200,
                "currency": "eur",
            },
        ),
        subscription=sub,
        ordering_key=f"stripe-subscription:{story.subscription}",
        # terminal . created . type rank . status rank . event id (providers/stripe/ordering.py)
        ordering_version=f"{int(name == 'subscription_canceled')}.{payload['created']:012d}.{rank // 100}.{rank % 100}."
        f"{payload['id']}",
    )


@pytest.fixture
def known_customer(story: Story, ctx: MappingContext) -> MappingContext:
    map_stripe_event(stripe_event(story.version, "customer.created"), ctx)
    return ctx


def test_subscription_created(story: Story, known_customer: MappingContext) -> None:
    payload, actions = mapped(story.version, "customer.subscription.created", known_customer)
    sub = subscription(story, "trialing")
    assert actions == [subscription_action(payload, story, sub, "subscription_created", 0 * 100 + 2)]


def test_subscription_updated_takes_the_period_from_the_right_level(
    story: Story, known_customer: MappingContext
) -> None:
    payload, actions = mapped(story.version, "customer.subscription.updated", known_customer)
    sub = subscription(story, "active", last_bill_date=at(story.trial_end))
    assert actions == [subscription_action(payload, story, sub, "subscription_updated", 1 * 100 + 3)]


def test_subscription_deleted_is_terminal_and_canceled(story: Story, known_customer: MappingContext) -> None:
    payload, actions = mapped(story.version, "customer.subscription.deleted", known_customer)
    # Ended: canceled_date is set; end_date ("a date in the future") is not, whatever
    # ended_at / cancel_at say.
    sub = subscription(story, "canceled", last_bill_date=at(story.renewal), canceled_date=at(story.canceled_at))
    assert actions == [subscription_action(payload, story, sub, "subscription_canceled", 2 * 100 + 7)]
    assert actions[0].ordering_version is not None and actions[0].ordering_version.startswith("1.")  # terminal


def test_trial_will_end(story: Story, known_customer: MappingContext) -> None:
    trial_end = {OLD: "2024-10-10T08:01:01Z", CURRENT: "2025-10-28T08:41:01Z"}[story.version]
    only_action(
        story,
        known_customer,
        "customer.subscription.trial_will_end",
        ActionKind.TRACK,
        event=TrackEvent(name="trial_will_end", properties={"trial_end": trial_end}),
    )


@pytest.mark.parametrize(
    "event_type", ["payment_intent.succeeded", "customer.deleted", "invoice.finalized", "invoice_payment.paid"]
)
def test_types_outside_the_table_map_to_nothing(event_type: str, ctx: MappingContext) -> None:
    payload = stripe_event(CURRENT, "invoice_payment.paid")
    payload["type"] = event_type
    assert map_stripe_event(payload, ctx) == []


def test_action_survives_the_queue_round_trip(story: Story, known_customer: MappingContext) -> None:
    pay_first_invoice(story, known_customer)
    for event_type in (
        "invoice.paid",
        "charge.refunded",
        "customer.subscription.updated",
        "checkout.session.completed",
    ):
        for action in map_stripe_event(stripe_event(story.version, event_type), known_customer):
            assert Action.model_validate_json(action.model_dump_json()) == action
