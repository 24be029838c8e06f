"""A refund or dispute that Stripe sends before its invoice is known is held, and the webhook
that makes the invoice known sends it, as the original event's action (docs/mapping.md, "Refunds")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.providers.conftest import (
    CURRENT,
    EMAIL,
    INVOICE_LINK_IDS,
    INVOICE_LINKS,
    STORIES,
    TOTAL,
    context,
    stripe_event,
)
from tests.providers.test_stripe_mapping import expected, invoice_record, paid_invoice
from webhook_bridge.actions import Action, ActionKind, Person, TrackEvent
from webhook_bridge.mapping_config import MappingConfig, MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.routing import route
from webhook_bridge.state import HeldDispute, HeldRefund, InMemoryIdentityStore, InMemoryInvoiceMemory
from webhook_bridge.vendors.catalog import Vendor, vendors


def dispute_event(payload: dict[str, Any]) -> TrackEvent:
    dispute = payload["data"]["object"]
    properties = {key: dispute[key] for key in ("amount", "currency", "reason", "status")}
    return TrackEvent(name="charge_disputed", properties={"dispute_id": dispute["id"], **properties})


def released(ctx: MappingContext, order: tuple[str, ...], version: str) -> list[Action]:
    """The actions the link writers send for events other than themselves."""
    actions = [action for event_type in order for action in map_stripe_event(stripe_event(version, event_type), ctx)]
    link_events = {stripe_event(version, event_type)["id"] for event_type in order}
    return [action for action in actions if action.source_event_id not in link_events]


@pytest.mark.parametrize(("version", "order"), INVOICE_LINKS, ids=INVOICE_LINK_IDS)
def test_a_refund_before_its_invoice_refunds_the_record_once_it_is_known(
    ctx: MappingContext, version: str, order: tuple[str, ...]
) -> None:
    story = STORIES[version]
    refund = stripe_event(version, "charge.refunded")
    [own] = map_stripe_event(refund, ctx)
    assert own.invoice is None and own.event is not None  # its track goes out at once

    # State only: the invoice record the refund would have sent, under its id and version.
    refunded = paid_invoice(story, is_refunded=True)
    record = invoice_record(story, refund, ActionKind.REFUND, refunded, refunded=True, amount_refunded=TOTAL)
    assert released(ctx, order, version) == [record]


@pytest.mark.parametrize(("version", "order"), INVOICE_LINKS, ids=INVOICE_LINK_IDS)
def test_a_dispute_before_its_invoice_is_tracked_for_its_person_once_it_is_known(
    ctx: MappingContext, version: str, order: tuple[str, ...]
) -> None:
    dispute = stripe_event(version, "charge.dispute.created")
    assert map_stripe_event(dispute, ctx) == []  # names nobody yet

    person = Person(email=EMAIL, stripe_customer_id=STORIES[version].customer)
    event = dispute_event(dispute)
    assert released(ctx, order, version) == [expected(dispute, ActionKind.TRACK, person, event=event)]


def test_a_held_refund_goes_only_where_invoice_records_are_kept_and_a_dispute_where_events_are(
    ctx: MappingContext,
) -> None:
    map_stripe_event(stripe_event(CURRENT, "charge.refunded"), ctx)
    map_stripe_event(stripe_event(CURRENT, "charge.dispute.created"), ctx)
    refund, dispute = released(ctx, ("invoice.paid", "invoice_payment.paid"), CURRENT)
    assert route(refund, vendors()) == [Vendor("segmetrics")]
    assert route(dispute, vendors()) == [Vendor("convertloop"), Vendor("loops"), Vendor("customerio")]


def test_a_dispute_with_an_evidence_email_goes_out_at_once_and_is_not_held(ctx: MappingContext) -> None:
    dispute = stripe_event(CURRENT, "charge.dispute.created")
    dispute["data"]["object"]["evidence"]["customer_email_address"] = "Chargeback@Example.com"
    [action] = map_stripe_event(dispute, ctx)
    assert action.person == Person(email="chargeback@example.com")
    assert released(ctx, ("invoice.paid", "invoice_payment.paid"), CURRENT) == []


def test_a_disabled_refund_or_dispute_is_not_held() -> None:
    off = {"stripe": {"events": {"charge.refunded": {"enabled": False}, "charge.dispute.created": {"enabled": False}}}}
    ctx = context(off)
    for event_type in ("charge.refunded", "charge.dispute.created"):
        assert map_stripe_event(stripe_event(CURRENT, event_type), ctx) == []
    assert released(ctx, ("invoice.paid", "invoice_payment.paid"), CURRENT) == []


def test_only_the_newest_refund_is_released(ctx: MappingContext) -> None:
    full = stripe_event(CURRENT, "charge.refunded")
    partial = stripe_event(CURRENT, "charge.refunded")
    partial["id"], partial["created"] = "evt_partial", full["created"] - 60
    partial["data"]["object"].update(amount_refunded=2000, refunded=False)
    map_stripe_event(full, ctx)
    map_stripe_event(partial, ctx)  # older progress, arriving last
    [action] = released(ctx, ("invoice_payment.paid", "invoice.paid"), CURRENT)
    assert (action.source_event_id, action.invoice and action.invoice.is_refunded) == (full["id"], True)


class RacingInvoices(InMemoryInvoiceMemory):
    """Runs ``meanwhile`` right after the first hold is written: a link writer between the
    refund's or dispute's write and its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] | None = None

    def hold(self, held: HeldRefund | HeldDispute, payment_intent_id: str | None, invoice_id: str | None) -> None:
        super().hold(held, payment_intent_id, invoice_id)
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()


@pytest.mark.parametrize("event_type", ["charge.refunded", "charge.dispute.created"])
def test_when_both_sides_see_each_other_both_send_the_same_action(event_type: str) -> None:
    """The link is written between the hold and the reads: both the refund (or dispute) and the
    link writer send it, with one id and one version, so each vendor gets it once."""
    invoices = RacingInvoices()
    ctx = MappingContext(MappingConfig(), InMemoryIdentityStore(), invoices)
    map_stripe_event(stripe_event(CURRENT, "invoice.paid"), ctx)
    from_link: list[Action] = []
    invoices.meanwhile = lambda: from_link.extend(map_stripe_event(stripe_event(CURRENT, "invoice_payment.paid"), ctx))

    # The refund's own track goes out beside its record; a dispute is the one action.
    own = map_stripe_event(stripe_event(CURRENT, event_type), ctx)[-1]
    [deferred] = from_link
    assert deferred == own
