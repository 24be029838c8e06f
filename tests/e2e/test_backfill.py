"""`bridgectl backfill stripe` and `import stripe` through `make dev`, reading a local Stripe API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import customer_created, post_stripe, successes, wait_for
from tests.stripe_api import API_KEY, StripeApi, stripe_api

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

VENDORS = ("convertloop", "loops", "customerio", "segmetrics")
SUBSCRIPTION = (
    Path(__file__).resolve().parents[1] / "fixtures/stripe/2025-09-30.clover/customer.subscription.updated.json"
)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeApi]:
    # One 429 first: the command waits it out (Retry-After: 0 keeps the test fast) and goes on.
    with stripe_api(StripeApi(rate_limited=1, retry_after="0")) as running:
        monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
        monkeypatch.setenv("STRIPE_API_BASE_URL", running.base_url)
        yield running


def delivered(sandbox: Any, emails: list[str]) -> dict[str, list[int]]:
    return {vendor: [len(successes(sandbox, vendor, email)) for email in emails] for vendor in VENDORS}


def test_backfill_delivers_missed_events_once_and_deduplicates_processed_ones(stack, sandbox, api, bridgectl_main):
    processed, *missed = [customer_created() for _ in range(3)]
    emails = [event["data"]["object"]["email"] for event in (processed, *missed)]
    assert post_stripe(stack, processed).json()["messages"] == 4
    api.objects["events"] = [processed, *missed]

    out = bridgectl_main("backfill", "stripe", "--since", "2025-11-01")
    assert "3  customer.created" in out and "sent 3 event(s)" in out
    wait_for(lambda: all(n == 1 for counts in delivered(sandbox, emails).values() for n in counts))
    assert stack.wait_until_drained(timeout=30)
    assert delivered(sandbox, emails) == {vendor: [1, 1, 1] for vendor in VENDORS}

    bridgectl_main("backfill", "stripe", "--since", "2025-11-01")  # again: every event already processed
    assert stack.wait_until_drained(timeout=30)
    assert delivered(sandbox, emails) == {vendor: [1, 1, 1] for vendor in VENDORS}
    assert stack.queue_counts("StripeEventsDeadLetterQueue") == {"visible": 0, "in_flight": 0, "delayed": 0}
    assert [path for path, _ in api.requests].count("/v1/events") == 3  # a 429, then one page per run


def test_dry_run_sends_nothing(stack, sandbox, api, bridgectl_main):
    event = customer_created()
    api.objects["events"] = [event]
    assert "would send 1 event(s)" in bridgectl_main("backfill", "stripe", "--since", "2025-11-01", "--dry-run")
    assert stack.wait_until_drained(timeout=30)
    assert delivered(sandbox, [event["data"]["object"]["email"]]) == {vendor: [0] for vendor in VENDORS}


def test_import_sends_customers_and_subscriptions_and_a_rerun_sends_nothing_more(stack, sandbox, api, bridgectl_main):
    customer = customer_created()["data"]["object"]
    subscription = json.loads(SUBSCRIPTION.read_text())["data"]["object"]
    subscription.update(id=f"sub_{uuid.uuid4().hex[:14]}", customer=customer["id"], status="active")
    api.objects.update(customers=[customer], subscriptions=[subscription])

    out = bridgectl_main("import", "stripe")
    assert "1  customer.updated" in out and "1  customer.subscription.updated" in out
    email = customer["email"]
    for vendor in VENDORS:
        wait_for(lambda v=vendor: successes(sandbox, v, email))
    assert stack.wait_until_drained(timeout=30)
    after_first = delivered(sandbox, [email])
    assert all(counts[0] >= 2 for counts in after_first.values())  # the customer, then its subscription
    subscriptions = [r["body"] for r in sandbox.requests("segmetrics") if r["path"].endswith("/subscription")]
    assert [(s["id"], s["email"], s["amount"]) for s in subscriptions] == [(subscription["id"], email, 9200)]

    bridgectl_main("import", "stripe")  # unchanged objects: the same event ids, deduplicated
    assert stack.wait_until_drained(timeout=30)
    assert delivered(sandbox, [email]) == after_first
    assert stack.queue_counts("StripeEventsDeadLetterQueue") == {"visible": 0, "in_flight": 0, "delayed": 0}
