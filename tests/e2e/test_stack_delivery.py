"""Through `make dev`: real handlers, moto queues, Lambda-style pollers and the vendor sandbox."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.e2e.conftest import bridgectl, customer_created, post_stripe, successes, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

VENDORS = ("convertloop", "loops", "customerio", "segmetrics")
IDENTIFY_CALLS = {
    "convertloop": ("POST", "/people"),
    "loops": ("PUT", "/contacts/update"),
    "customerio": ("PUT", "/customers/{email}"),
    "segmetrics": ("POST", "/sandbox-account/sandbox-integration/contact"),
}


def test_a_signed_customer_created_reaches_all_four_vendors(stack, sandbox):
    payload = customer_created()
    email = payload["data"]["object"]["email"]
    response = post_stripe(stack, payload)
    assert response.status_code == 200, response.text
    assert response.json()["messages"] == 4
    for vendor in VENDORS:
        (call,) = wait_for(lambda v=vendor: successes(sandbox, v, email))
        method, endpoint = IDENTIFY_CALLS[vendor]
        assert (call["method"], call["endpoint"]) == (method, endpoint.format(email=email))


def test_a_bad_signature_gets_401_and_queues_nothing(stack, sandbox):
    response = post_stripe(stack, customer_created(), secret="whsec_not_the_secret")
    assert response.status_code == 401
    # The receiver enqueues before it answers, so empty queues now mean nothing will be sent.
    for logical_id in ("ConvertLoopQueue", "LoopsQueue", "CustomerIoQueue", "SegMetricsQueue"):
        assert sum(stack.queue_counts(logical_id).values()) == 0


def test_a_vendor_failing_for_a_while_still_gets_everything_once_and_holds_back_no_one(stack, sandbox):
    sandbox.add_fault("loops", status=503, count=3)
    sandbox.add_fault("customerio", status=429, count=4, retry_after=1)
    payload = customer_created()
    email = payload["data"]["object"]["email"]
    assert post_stripe(stack, payload).status_code == 200
    delivered = {vendor: wait_for(lambda v=vendor: successes(sandbox, v, email), timeout=60) for vendor in VENDORS}
    assert {vendor: len(calls) for vendor, calls in delivered.items()} == dict.fromkeys(VENDORS, 1)
    statuses = {v: Counter(r["status"] for r in sandbox.requests(v)) for v in ("loops", "customerio")}
    assert statuses["loops"] == Counter({503: 3, 200: 1})
    assert statuses["customerio"] == Counter({429: 4, 200: 1})
    # The healthy vendors were served before the failing ones recovered.
    recovered = min(delivered["loops"][0]["id"], delivered["customerio"][0]["id"])
    assert all(delivered[v][0]["id"] < recovered for v in ("convertloop", "segmetrics"))


def test_a_burst_of_30_webhooks_reaches_loops_once_each(stack, sandbox):
    # The request rate it reaches Loops at is wall-clock: `make bench` measures it (the
    # delivery.loops figures); the pacing itself is tested on an injected clock.
    payloads = [customer_created() for _ in range(30)]
    for payload in payloads:
        assert post_stripe(stack, payload).status_code == 200
    emails = [p["data"]["object"]["email"] for p in payloads]
    wait_for(lambda: all(successes(sandbox, "loops", e) for e in emails), timeout=60)
    assert sorted(len(successes(sandbox, "loops", e)) for e in emails) == [1] * 30
    assert stack.queue_counts("LoopsDeadLetterQueue")["visible"] == 0


def test_a_rejected_message_is_found_and_replayed_with_one_command(stack, sandbox):
    sandbox.add_fault("segmetrics", status=400, count=1)
    payload = customer_created()
    email = payload["data"]["object"]["email"]
    assert post_stripe(stack, payload).status_code == 200
    wait_for(lambda: stack.queue_counts("SegMetricsDeadLetterQueue")["visible"])
    shown = bridgectl(stack, "show", "segmetrics", "--json")
    assert shown.returncode == 0, shown.stderr
    (letter,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert letter["status"] == "400" and letter["class"] == "BadRequestError"
    assert email not in shown.stdout
    replay = bridgectl(stack, "redrive", "segmetrics", "--id", letter["message_id"])
    assert replay.returncode == 0, replay.stderr
    (delivered,) = wait_for(lambda: successes(sandbox, "segmetrics", email))
    assert delivered["endpoint"].endswith("/contact")
    assert stack.queue_counts("SegMetricsDeadLetterQueue")["visible"] == 0
