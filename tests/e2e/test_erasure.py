"""Through `make dev`, erasure opted in: a deleted customer, with Stripe's late and repeated
deliveries of what came before shuffled around the deletion, ends erased at every vendor
that can delete, and nobody else is touched."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, zip_longest

import pytest

from tests.e2e.conftest import stack_output, wait_for
from tests.e2e.lifecycle import FINAL_NAME, FINAL_STATUS, Subscriber, expected_holding, holding
from tests.e2e.test_lifecycle import DEAD_LETTER_QUEUES, VENDORS, converged, deliver_like_stripe

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

DELETES = {
    "loops": ("POST", "/contacts/delete"),
    "customerio": ("DELETE", "/customers/{email}"),
    "segmetrics": ("DELETE", "/contact/{customer}"),  # below /<account>/<integration>
}
ERASING = tuple(DELETES)
# First deliveries that Stripe makes late, after the deletion: older states of the customer
# and the subscription, an invoice, and the cancellation the deletion itself causes.
LATE = ["customer.updated", "customer.subscription.updated", "invoice.paid", "customer.subscription.deleted"]


def ids(subscriber: Subscriber) -> dict[str, str]:
    return {"email": subscriber.email, "customer": subscriber.ids()["customer"]}


def erased(sandbox, subscriber) -> bool:
    return all(holding(sandbox.state(vendor), vendor, subscriber).profiles == 0 for vendor in ERASING)


def test_a_deleted_customer_ends_erased_whatever_arrives_late_and_others_are_untouched(stack, sandbox):
    gone, staying = Subscriber(), Subscriber()
    streams = [subscriber.events() * 2 for subscriber in (gone, staying)]
    for seed, stream in enumerate(streams):
        random.Random(seed).shuffle(stream)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda e: deliver_like_stripe(stack, e), chain.from_iterable(zip_longest(*streams))))
    wait_for(lambda: converged(sandbox, [gone, staying]), timeout=120, interval=0.5)

    # Deleted twice (Stripe's retry of one event, and a second event), shuffled among late
    # first deliveries (deleted before updated, updated before deleted), concurrently.
    deletion = gone.event("customer.deleted")
    deliveries = [deletion, dict(deletion), gone.event("customer.deleted")] + [gone.event(name) for name in LATE]
    random.Random(7).shuffle(deliveries)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda e: deliver_like_stripe(stack, e), deliveries))

    wait_for(lambda: erased(sandbox, gone), timeout=120, interval=0.5)
    assert stack.wait_until_drained(timeout=60)
    for vendor in VENDORS:
        held = holding(sandbox.state(vendor), vendor, gone)
        if vendor == "convertloop":  # no delete in its API: it keeps the newest state, nothing older
            assert (held.profiles, held.status, held.name) == (1, FINAL_STATUS, FINAL_NAME)
        else:
            assert held.profiles == 0, vendor
        if vendor == "segmetrics":  # "This will not delete any invoices or purchases"
            assert held.subscription_canceled is True
        assert holding(sandbox.state(vendor), vendor, staying) == expected_holding(vendor), vendor
    # Each erasing vendor was sent its documented delete, and it succeeded at least once.
    for vendor, (method, endpoint) in DELETES.items():
        assert any(
            (r["method"], r["status"]) == (method, 200) and r["endpoint"].endswith(endpoint.format(**ids(gone)))
            for r in sandbox.requests(vendor)
        ), vendor
    for queue in DEAD_LETTER_QUEUES:
        assert stack.queue_counts(queue)["visible"] == 0, queue
    assert gone.email not in stack_output(stack).lower()
