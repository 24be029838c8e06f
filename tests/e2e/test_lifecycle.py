"""Through `make dev`: subscribers' lifecycles sent shuffled, twice, concurrently; every
vendor ends with one profile each, every event once, and the newest state."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, zip_longest

import pytest

from tests.e2e.conftest import post_stripe, wait_for
from tests.e2e.lifecycle import Subscriber, expected_holding, holding

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

VENDORS = ("convertloop", "loops", "customerio", "segmetrics")
DEAD_LETTER_QUEUES = tuple(f"{name}DeadLetterQueue" for name in ("ConvertLoop", "Loops", "CustomerIo", "SegMetrics"))
SEEDS = range(4)


def deliver_like_stripe(stack, event) -> None:
    """Post until accepted: a copy that races its twin gets 409 and, as Stripe does, tries again."""
    wait_for(lambda: post_stripe(stack, event).status_code == 200, timeout=30, interval=0.2)


def converged(sandbox, subscribers) -> bool:
    states = {vendor: sandbox.state(vendor) for vendor in VENDORS}
    return all(
        holding(states[vendor], vendor, subscriber) == expected_holding(vendor)
        for subscriber in subscribers
        for vendor in VENDORS
    )


def test_shuffled_duplicated_concurrent_lifecycles_converge_at_every_vendor(stack, sandbox):
    subscribers = [Subscriber() for _ in SEEDS]
    streams = []
    for seed, subscriber in zip(SEEDS, subscribers, strict=True):
        deliveries = subscriber.events() * 2  # Stripe delivers at least once: here, twice
        random.Random(seed).shuffle(deliveries)
        streams.append(deliveries)
    interleaved = [event for event in chain.from_iterable(zip_longest(*streams)) if event is not None]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda event: deliver_like_stripe(stack, event), interleaved))

    wait_for(lambda: converged(sandbox, subscribers), timeout=120, interval=0.5)
    # Nothing still queued or running could change it afterwards.
    assert stack.wait_until_drained(timeout=60)
    states = {vendor: sandbox.state(vendor) for vendor in VENDORS}
    for subscriber in subscribers:
        for vendor in VENDORS:
            assert holding(states[vendor], vendor, subscriber) == expected_holding(vendor), vendor
    for queue in DEAD_LETTER_QUEUES:
        assert stack.queue_counts(queue)["visible"] == 0, queue


def bridgectl(stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint, "AWS_REGION": stack.region}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    command = [sys.executable, "-m", "webhook_bridge.ops.cli", "--stack", stack.template.stack_name, "dlq", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True)


def test_a_subscription_whose_customer_never_arrives_waits_then_is_replayed_once_known(impatient_stack):
    stack, sandbox = impatient_stack, impatient_stack.sandbox
    subscriber = Subscriber()
    created, *_ = [e for e in subscriber.events() if e["type"] == "customer.subscription.created"]
    assert post_stripe(stack, created).status_code == 200
    # No vendor gets a request without the email: each waits, then dead-letters the action.
    wait_for(lambda: all(stack.queue_counts(q)["visible"] for q in DEAD_LETTER_QUEUES), timeout=90, interval=0.5)
    letters = {}
    for vendor in VENDORS:
        assert sandbox.requests(vendor) == []
        (letter,) = [json.loads(line) for line in bridgectl(stack, "show", vendor, "--json").stdout.splitlines()]
        assert letter["reason"] == "identity_unknown"
        letters[vendor] = letter["message_id"]

    customer = next(e for e in subscriber.events() if e["type"] == "customer.created")
    assert post_stripe(stack, customer).status_code == 200
    for vendor, message_id in letters.items():
        bridgectl(stack, "redrive", vendor, "--id", message_id)
    wait_for(lambda: all(s.profiles == 1 for s in (holding(sandbox.state(v), v, subscriber) for v in VENDORS)))
    assert stack.wait_until_drained(timeout=60)
    for vendor in VENDORS:
        held = holding(sandbox.state(vendor), vendor, subscriber)
        assert (held.profiles, held.status) == (1, "trialing"), vendor
        assert held.tracked == ({} if vendor == "segmetrics" else {"subscription_created": 1}), vendor
