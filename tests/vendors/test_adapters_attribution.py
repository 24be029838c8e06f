"""Attribution at each vendor: SegMetrics' own contact fields, the others' attributes."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from webhook_bridge.actions import ActionKind, Attribution
from webhook_bridge.vendors.convertloop import adapter as convertloop_adapter
from webhook_bridge.vendors.convertloop.client import ConvertLoopClient
from webhook_bridge.vendors.customerio import adapter as customerio_adapter
from webhook_bridge.vendors.customerio.client import CustomerIoClient
from webhook_bridge.vendors.loops import adapter as loops_adapter
from webhook_bridge.vendors.loops.client import LoopsClient
from webhook_bridge.vendors.segmetrics import adapter as segmetrics_adapter
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, APP_ID, EMAIL, SITE_ID, STRIPE_CUSTOMER, answer, json_body, make_action, only_request

ATTRIBUTION = Attribution(
    utm_source="newsletter",
    utm_medium="email",
    utm_campaign="otoño-2025",
    utm_content="hero",
    utm_term="billing",
    referring_url="https://blog.example/pricing",
    optin_url="https://acme.example/onboarding",
    ip_address="8.8.8.8",
)
KNOWN = ATTRIBUTION.known()


def identify(attribution: Attribution = ATTRIBUTION):
    person = {"first_name": "Jane", "traits": {"plan": "pro"}, "attribution": attribution}
    return make_action(kind=ActionKind.IDENTIFY, identify=True, person=person)


@pytest.mark.parametrize(
    ("deliver", "client", "url", "body"),
    [
        (
            segmetrics_adapter.deliver,
            SegMetricsClient("acct1", "integ1", API_KEY),
            "https://import.segmetrics.io/api/v1/acct1/integ1/contact",
            # its own contact fields: attribution is not a custom field
            {"contact_id": STRIPE_CUSTOMER, "email": EMAIL, "first_name": "Jane", "custom_fields": {"plan": "pro"}},
        ),
        (
            convertloop_adapter.deliver,
            ConvertLoopClient(APP_ID, API_KEY),
            "https://api.convertloop.co/v1/people",
            {"email": EMAIL, "user_id": STRIPE_CUSTOMER, "first_name": "Jane", "plan": "pro"},  # custom attributes
        ),
        (
            loops_adapter.deliver,
            LoopsClient(API_KEY),
            "https://app.loops.so/api/v1/contacts/update",
            {"email": EMAIL, "userId": STRIPE_CUSTOMER, "firstName": "Jane", "plan": "pro"},  # contact properties
        ),
        (
            customerio_adapter.deliver,
            CustomerIoClient(SITE_ID, API_KEY),
            f"https://track.customer.io/api/v1/customers/{quote(EMAIL, safe='')}",
            {"email": EMAIL, "first_name": "Jane", "stripe_customer_id": STRIPE_CUSTOMER, "plan": "pro"},
        ),
    ],
    ids=["segmetrics", "convertloop", "loops", "customerio"],
)
def test_each_vendor_gets_the_attribution_beside_the_contacts_fields(http_mock, deliver, client, url, body) -> None:
    answer(http_mock, 200, json={"status": "success"})
    deliver(identify(), client, idempotency_key="k")
    request = only_request(http_mock)
    assert str(request.url) == url
    assert json_body(request) == {**body, **KNOWN}


@pytest.mark.parametrize(
    ("deliver", "client"),
    [
        (segmetrics_adapter.deliver, SegMetricsClient("acct1", "integ1", API_KEY)),
        (convertloop_adapter.deliver, ConvertLoopClient(APP_ID, API_KEY)),
        (loops_adapter.deliver, LoopsClient(API_KEY)),
        (customerio_adapter.deliver, CustomerIoClient(SITE_ID, API_KEY)),
    ],
)
def test_an_action_without_attribution_sends_no_attribution_key(http_mock, deliver, client) -> None:
    answer(http_mock, 200, json={"status": "success"})
    deliver(identify(Attribution(utm_source="partner")), client, idempotency_key="k")
    deliver(identify(Attribution()), client, idempotency_key="k")
    first, later = (json_body(call.request) for call in http_mock.calls)
    assert first["utm_source"] == "partner"
    assert not set(later) & set(KNOWN)  # neither a value nor a null that would blank it
