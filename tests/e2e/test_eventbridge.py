"""Stripe through EventBridge in `make dev`: the envelope on the Stripe events queue, as the rule puts it."""

from __future__ import annotations

import pytest

from devstack.send import put_on_stripe_events_queue
from tests.e2e.conftest import customer_created, post_stripe, successes, wait_for
from webhook_bridge.receiver.eventbridge import envelope_for

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

VENDORS = ("convertloop", "loops", "customerio", "segmetrics")


def inject(stack, event) -> None:
    put_on_stripe_events_queue(envelope_for(event), stack.queue_urls["StripeEventsQueue"], stack.client("sqs"))


def test_a_stripe_event_from_eventbridge_reaches_all_four_vendors_once(stack, sandbox):
    event = customer_created()
    email = event["data"]["object"]["email"]
    inject(stack, event)
    inject(stack, event)  # EventBridge delivers at least once
    for vendor in VENDORS:
        wait_for(lambda v=vendor: successes(sandbox, v, email))
    assert stack.wait_until_drained(timeout=30)
    assert {vendor: len(successes(sandbox, vendor, email)) for vendor in VENDORS} == dict.fromkeys(VENDORS, 1)


def test_the_webhook_and_eventbridge_share_deduplication(stack, sandbox):
    event = customer_created()
    email = event["data"]["object"]["email"]
    assert post_stripe(stack, event).json()["messages"] == 4
    inject(stack, event)
    assert stack.wait_until_drained(timeout=30)
    assert {vendor: len(successes(sandbox, vendor, email)) for vendor in VENDORS} == dict.fromkeys(VENDORS, 1)
    assert stack.queue_counts("StripeEventsDeadLetterQueue") == {"visible": 0, "in_flight": 0, "delayed": 0}
