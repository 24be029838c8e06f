"""Actions as the provider mappings produce them, for the adapter tests."""

from __future__ import annotations

from datetime import UTC, datetime

from webhook_bridge.actions import ActionKind, Invoice, InvoiceItem, Memberships, Subscription, TrackEvent

from .conftest import make_action

TRAITS = {
    "plan": "pro",
    "answers": ["red", "blue"],
    "signup_at": datetime(2024, 4, 1, 8, 0, tzinfo=UTC),
    "survey": {"score": 9},
    "nickname": None,
}


def identify_action(**overrides):
    person = {
        "first_name": "Jane",
        "last_name": "Doe",
        "traits": TRAITS,
        "memberships": {
            # ConvertLoop segments (Customer.io segment_ attributes) ...
            "convertloop": Memberships(join=("Customers",), leave=("Leads",)),
            # ... and SegMetrics tags: each vendor gets only its own.
            "segmetrics": Memberships(join=("Typeform lead",), leave=("Trial",)),
        },
    }
    return make_action(kind=ActionKind.IDENTIFY, identify=True, person=person, **overrides)


def track_action(**overrides):
    event = TrackEvent(
        name="invoice_paid",
        properties={"invoice_id": "in_1", "amount_paid": 4500, "currency": "usd", "lines": [{"id": "il_1"}]},
    )
    return make_action(kind=ActionKind.TRACK, event=event, **overrides)


def identify_and_track_action(**overrides):
    person = {
        "first_name": "Jane",
        "traits": {"plan": "pro"},
        "memberships": {"convertloop": Memberships(join=("Customers",)), "segmetrics": Memberships(join=("Buyer",))},
    }
    event = TrackEvent(name="checkout_completed", properties={"amount_total": 4500, "mode": "payment"})
    return make_action(kind=ActionKind.TRACK, identify=True, event=event, person=person, **overrides)


INVOICE = Invoice(
    id="in_1",
    amount=5000,
    paid=4500,
    currency="usd",
    date_created=datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC),
    items=(
        InvoiceItem(id="il_1", name="Pro plan", product_id="prod_1", amount=4000, subscription_id="sub_1"),
        InvoiceItem(name="Setup fee", amount=1000),
    ),
    discount=500,
    tax=0,
    subscription_id="sub_1",
)


def invoice_action(invoice=INVOICE, **overrides):
    """As ``invoice.paid`` maps: an invoice action that identifies (customer_email, customer_name)."""
    event = TrackEvent(
        name="invoice_paid", properties={"invoice_id": invoice.id, "amount_paid": invoice.paid, "currency": "usd"}
    )
    overrides.setdefault("identify", True)
    overrides.setdefault("person", {"first_name": "Jane", "last_name": "Doe"})
    return make_action(kind=ActionKind.INVOICE, invoice=invoice, event=event, **overrides)


REFUNDED_INVOICE = INVOICE.model_copy(update={"is_refunded": True})


def refund_action(**overrides):
    """As ``charge.refunded`` maps when the invoice is known: no identify."""
    event = TrackEvent(name="charge_refunded", properties={"amount_refunded": 4500, "currency": "usd"})
    return make_action(
        kind=ActionKind.REFUND,
        invoice=REFUNDED_INVOICE,
        event=event,
        source_event_type="charge.refunded",
        **overrides,
    )


SUBSCRIPTION = Subscription(
    id="sub_1",
    status="active",
    plan="pro",
    amount=9000,
    currency="usd",
    product_id="prod_1",
    product_name="Pro plan",
    quantity=3,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    last_bill_date=datetime(2024, 5, 1, tzinfo=UTC),
    billing_cycle="month",
    frequency=1,
    trial_end_date=datetime(2024, 1, 15, tzinfo=UTC),
)


def subscription_action(**overrides):
    event = TrackEvent(name="subscription_updated", properties={"status": "active", "plan": "pro"})
    person = {"traits": {"subscription_status": "active", "plan": "pro"}}
    overrides.setdefault("identify", True)
    return make_action(
        kind=ActionKind.SUBSCRIPTION,
        subscription=SUBSCRIPTION,
        event=event,
        person=person,
        **overrides,
    )
