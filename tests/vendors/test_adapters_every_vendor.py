"""What every vendor's adapter refuses before it sends anything."""

from __future__ import annotations

import pytest

from webhook_bridge.vendors.exceptions import RequestValidationError

from . import fixtures_actions as actions
from .conftest import deliver_to

NO_ID = "has neither an email nor a Stripe customer id"
NO_EMAIL = "has no email"  # Loops and Customer.io key everything by email


@pytest.mark.parametrize(
    ("vendor", "make", "reason"),
    [
        ("convertloop", actions.track_action, NO_ID),
        ("loops", actions.track_action, NO_EMAIL),
        ("customerio", actions.track_action, NO_EMAIL),
        ("segmetrics", actions.invoice_action, NO_ID),  # it keeps no events: an invoice
    ],
)
def test_an_unidentified_person_is_rejected_without_a_call(http_mock, vendor, make, reason):
    with pytest.raises(RequestValidationError, match=reason):
        deliver_to(vendor, make(email=None, stripe_customer_id=None), idempotency_key="k")
    assert http_mock.calls.call_count == 0
