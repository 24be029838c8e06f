"""Through `make dev`: a yen purchase and its campaign, as SegMetrics ends up holding them."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import post_stripe, wait_for
from tests.providers.conftest import CURRENT, stripe_event

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]

UTM = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand"}


def for_customer(event_type: str, customer: str, email: str, **fields: Any) -> dict[str, Any]:
    """The fixture event, made new: fresh event id, now, this customer, currency yen."""
    payload = stripe_event(CURRENT, event_type)
    payload.update(id=f"evt_{uuid.uuid4().hex[:24]}", created=int(time.time()))
    obj = payload["data"]["object"]
    obj.update(customer=customer, currency="jpy", **fields)
    if "customer_details" in obj:
        obj["customer_details"]["email"] = email
    if "customer_email" in obj:
        obj["customer_email"] = email
    return payload


def test_a_yen_invoice_is_cents_and_the_checkout_campaign_stays(stack, sandbox):
    customer, email = f"cus_{uuid.uuid4().hex[:14]}", f"{uuid.uuid4().hex[:12]}@example.com"
    invoice_id = f"in_{uuid.uuid4().hex[:20]}"
    checkout = for_customer("checkout.session.completed", customer, email, metadata=UTM)
    assert post_stripe(stack, checkout).status_code == 200
    wait_for(lambda: contact(sandbox, email).get("attribution"))
    # The invoice identifies again, without any UTM: it must not blank them.
    assert post_stripe(stack, for_customer("invoice.paid", customer, email, id=invoice_id)).status_code == 200

    invoice = wait_for(lambda: next((i for i in segmetrics(sandbox)["invoices"] if i["id"] == invoice_id), None))

    # ¥8,906 in Stripe's integers (lines ¥8,700 + ¥500, discount ¥1,840, tax ¥1,546)
    assert (invoice["amount"], invoice["paid"], invoice["discount"], invoice["tax"]) == (890600, 890600, 184000, 154600)
    assert [item["amount"] for item in invoice["items"]] == [870000, 50000]
    assert contact(sandbox, email)["attribution"] == UTM


def segmetrics(sandbox: Any) -> dict[str, Any]:
    state: dict[str, Any] = sandbox.state("segmetrics")
    return state


def contact(sandbox: Any, email: str) -> dict[str, Any]:
    return next((c for c in segmetrics(sandbox)["contacts"] if c["email"] == email), {})
