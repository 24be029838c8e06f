"""bridgectl's operator controls through `make dev`: pause and resume a vendor, filtered redrive, trace."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import customer_created, post_stripe, successes, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def test_a_paused_vendor_keeps_its_messages_and_gets_them_on_resume(stack, sandbox, bridgectl_main):
    paused = bridgectl_main("vendor", "pause", "loops")
    assert "paused loops" in paused
    try:
        assert "Disabled" in bridgectl_main("vendor", "status")
        # Like Lambda while Disabling, a long poll already under way may still deliver what it gets.
        wait_for(lambda: stack.pollers["LoopsQueue"].paused)
        payload = customer_created()
        email = payload["data"]["object"]["email"]
        assert post_stripe(stack, payload).status_code == 200
        for vendor in ("convertloop", "customerio", "segmetrics"):
            wait_for(lambda v=vendor: successes(sandbox, v, email))
        # The others are done; Loops' message waits, visible, in its queue.
        wait_for(lambda: stack.queue_counts("LoopsQueue")["visible"] == 1)
        assert not successes(sandbox, "loops", email)
    finally:
        bridgectl_main("vendor", "resume", "loops")
    (call,) = wait_for(lambda: successes(sandbox, "loops", email))
    assert call["endpoint"] == "/contacts/update"
    assert stack.queue_counts("LoopsQueue") == {"visible": 0, "in_flight": 0, "delayed": 0}


def test_redrive_selects_by_status_and_event_type_and_dry_run_moves_nothing(stack, sandbox, bridgectl_main):
    sandbox.add_fault("segmetrics", status=400, count=2)
    payloads = [customer_created(), customer_created()]
    for payload in payloads:
        assert post_stripe(stack, payload).status_code == 200
    wait_for(lambda: stack.queue_counts("SegMetricsDeadLetterQueue")["visible"] == 2)

    dry = bridgectl_main("dlq", "redrive", "segmetrics", "--status", "400", "--event-type", "customer.*", "--dry-run")
    assert "would redrive 2 message(s)" in dry
    assert all(p["data"]["object"]["email"] not in dry for p in payloads)
    assert stack.queue_counts("SegMetricsDeadLetterQueue")["visible"] == 2
    none = bridgectl_main("dlq", "redrive", "segmetrics", "--event-type", "invoice.*")
    assert "redrove 0 message(s)" in none

    shown = bridgectl_main("dlq", "show", "segmetrics", "--json").splitlines()
    first = json.loads(shown[0])["message_id"]
    bridgectl_main("dlq", "redrive", "segmetrics", "--id", first, "--status", "400")
    wait_for(lambda: stack.queue_counts("SegMetricsDeadLetterQueue")["visible"] == 1)
    # --all: SQS's StartMessageMoveTask where there is one; moto has none, so one by one.
    everything = bridgectl_main("dlq", "redrive", "segmetrics", "--all")
    assert "1 message(s)" in everything
    for payload in payloads:
        wait_for(lambda p=payload: successes(sandbox, "segmetrics", p["data"]["object"]["email"]))
    assert stack.queue_counts("SegMetricsDeadLetterQueue")["visible"] == 0


def test_trace_follows_an_event_to_every_vendor(stack, sandbox, bridgectl_main):
    payload = customer_created()
    email = payload["data"]["object"]["email"]
    for _ in range(2):
        assert post_stripe(stack, payload).status_code == 200
    for vendor in ("convertloop", "loops", "customerio", "segmetrics"):
        wait_for(lambda v=vendor: successes(sandbox, v, email))
    # The vendor answered before the log was written: wait for the last write, not for time.
    traced = wait_for(lambda: _all_delivered(json.loads(bridgectl_main("trace", payload["id"], "--json"))))
    assert traced["duplicates"] == 1
    text = bridgectl_main("trace", payload["id"])
    assert text.count(" delivered ") == 4 and email not in text


def _all_delivered(trace: dict) -> dict | None:
    states = [d["state"] for d in trace["deliveries"]]
    return trace if states == ["delivered"] * 4 else None
