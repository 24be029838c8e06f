"""Attribution at each vendor: SegMetrics' own contact fields, the others' attributes."""

from __future__ import annotations

from urllib.parse import quote

import pytest

# What the Typeform mapping makes of every attribution hidden field.
from tests.providers.test_attribution import EVERY_FIELD as ATTRIBUTION
from webhook_bridge.actions import ActionKind, Attribution

from .conftest import CLIENTS, EMAIL, STRIPE_CUSTOMER, answer, deliver_to, json_body, make_action, only_request

KNOWN = ATTRIBUTION.known()


def identify(attribution: Attribution = ATTRIBUTION):
    person = {"first_name": "Jane", "traits": {"plan": "pro"}, "attribution": attribution}
    return make_action(kind=ActionKind.IDENTIFY, identify=True, person=person)


@pytest.mark.parametrize(
    ("vendor", "url", "body"),
    [
        (
            "segmetrics",
            "https://import.segmetrics.io/api/v1/acct1/integ1/contact",
            # its own contact fields: attribution is not a custom field
            {"contact_id": STRIPE_CUSTOMER, "email": EMAIL, "first_name": "Jane", "custom_fields": {"plan": "pro"}},
        ),
        (
            "convertloop",
            "https://api.convertloop.co/v1/people",
            {"email": EMAIL, "user_id": STRIPE_CUSTOMER, "first_name": "Jane", "plan": "pro"},  # custom attributes
        ),
        (
            "loops",
            "https://app.loops.so/api/v1/contacts/update",
            # contact properties
            {"email": EMAIL, "stripe_customer_id": STRIPE_CUSTOMER, "firstName": "Jane", "plan": "pro"},
        ),
        (
            "customerio",
            f"https://track.customer.io/api/v1/customers/{quote(EMAIL, safe='')}",
            {"email": EMAIL, "first_name": "Jane", "stripe_customer_id": STRIPE_CUSTOMER, "plan": "pro"},
        ),
    ],
    ids=["segmetrics", "convertloop", "loops", "customerio"],
)
def test_each_vendor_gets_the_attribution_beside_the_contacts_fields(http_mock, vendor, url, body) -> None:
    answer(http_mock, 200, json={"status": "success"})
    deliver_to(vendor, identify(), idempotency_key="k")
    request = only_request(http_mock)
    assert str(request.url) == url
    assert json_body(request) == {**body, **KNOWN}


@pytest.mark.parametrize("vendor", CLIENTS)
def test_an_action_without_attribution_sends_no_attribution_key(http_mock, vendor) -> None:
    answer(http_mock, 200, json={"status": "success"})
    for attribution in (Attribution(utm_source="partner"), Attribution()):
        deliver_to(vendor, identify(attribution), idempotency_key="k")
    first, later = (json_body(call.request) for call in http_mock.calls)
    assert first["utm_source"] == "partner"
    assert not set(later) & set(KNOWN)  # neither a value nor a null that would blank it
