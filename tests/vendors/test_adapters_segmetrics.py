"""What SegMetrics receives for each kind of action."""

from __future__ import annotations

import pytest

from webhook_bridge.actions import Invoice, Memberships
from webhook_bridge.vendors.exceptions import InternalServerError
from webhook_bridge.vendors.segmetrics import adapter as segmetrics_adapter

from . import fixtures_actions as actions
from .conftest import API_KEY, CLIENTS, EMAIL, STRIPE_CUSTOMER, answer, json_body, make_action, only_request
from .fixtures_actions import INVOICE

BASE = "https://import.segmetrics.io/api/v1/acct1/integ1"


client = pytest.fixture(CLIENTS["segmetrics"], name="client")


REFERENCE = {"contact_id": STRIPE_CUSTOMER, "email": EMAIL}
INVOICE_BODY = {
    **REFERENCE,
    "id": "in_1",
    "amount": 5000,
    "paid": 4500,
    "date_created": "2024-05-01 12:00:00",
    "items": [
        {"id": "il_1", "name": "Pro plan", "product_id": "prod_1", "amount": 4000, "subscription_id": "sub_1"},
        {"name": "Setup fee", "product_id": "Setup fee", "amount": 1000, "subscription_id": "sub_1"},
    ],
    "discount": 500,
    "tax": 0,
    "is_refunded": 0,
}
SUBSCRIPTION_BODY = {
    **REFERENCE,
    "id": "sub_1",
    "amount": 9000,
    "product_id": "prod_1",
    "name": "Pro plan",
    "quantity": 3,
    "start_date": "2024-01-01 00:00:00",
    "last_bill_date": "2024-05-01 00:00:00",
    "billing_cycle": "month",
    "frequency": 1,
    "trial_end_date": "2024-01-15 00:00:00",
}


def sent(http_mock):
    return [(c.request.method, str(c.request.url), json_body(c.request)) for c in http_mock.calls]


@pytest.mark.parametrize(
    ("action", "requests"),
    [
        (
            actions.invoice_action(),
            [("contact", {**REFERENCE, "first_name": "Jane", "last_name": "Doe"}), ("invoice", INVOICE_BODY)],
        ),
        (actions.refund_action(), [("invoice", {**INVOICE_BODY, "is_refunded": 1})]),  # the invoice only
        (
            actions.subscription_action(),
            [
                ("contact", {**REFERENCE, "custom_fields": {"subscription_status": "active", "plan": "pro"}}),
                ("subscription", SUBSCRIPTION_BODY),
            ],
        ),
        (actions.subscription_action(identify=False), [("subscription", SUBSCRIPTION_BODY)]),
        (
            actions.identify_and_track_action(),  # the contact and its tags: SegMetrics has no events
            [
                ("contact", {**REFERENCE, "first_name": "Jane", "custom_fields": {"plan": "pro"}}),
                ("tags/add", {**REFERENCE, "tags": ["Buyer"]}),
            ],
        ),
    ],
    ids=["invoice", "refund", "subscription", "subscription-without-identify", "track-with-identify"],
)
def test_each_action_posts_its_documents_in_order(http_mock, client, action, requests):
    answer(http_mock, 200, json={"status": "success"})

    result = segmetrics_adapter.deliver(action, client)

    assert sent(http_mock) == [("POST", f"{BASE}/{path}", body) for path, body in requests]
    assert result.calls == [f"POST /{path}" for path, _ in requests]


def test_invoice_without_lines_gets_one_item_and_refund_flag(http_mock, client):
    answer(http_mock, 200)
    invoice = Invoice(
        id="in_2", amount=700, paid=700, currency="eur", date_created=INVOICE.date_created, is_refunded=True
    )
    segmetrics_adapter.deliver(actions.invoice_action(invoice=invoice, email=None, identify=False), client)
    assert json_body(only_request(http_mock)) == {
        "contact_id": STRIPE_CUSTOMER,
        "id": "in_2",
        "amount": 700,
        "paid": 700,
        "date_created": "2024-05-01 12:00:00",
        "items": [{"name": "Invoice in_2", "product_id": "Invoice in_2", "amount": 700}],
        "is_refunded": 1,
    }


def test_failed_contact_stops_before_the_purchase(http_mock, client):
    answer(http_mock, 500, json={"status": "error", "errors": ["down"]})
    with pytest.raises(InternalServerError):
        segmetrics_adapter.deliver(actions.subscription_action(), client)
    assert [str(c.request.url) for c in http_mock.calls] == [f"{BASE}/contact"]


def test_identify_upserts_the_contact_then_tags(http_mock, client):
    answer(http_mock, 200)

    result = segmetrics_adapter.deliver(actions.identify_action(), client)

    assert sent(http_mock) == [
        (
            "POST",
            f"{BASE}/contact",
            {
                **REFERENCE,
                "first_name": "Jane",
                "last_name": "Doe",
                "custom_fields": {
                    "plan": "pro",
                    "answers": "red, blue",
                    "signup_at": "2024-04-01 08:00:00",
                    "survey": '{"score":9}',
                    "nickname": None,  # null clears the field in SegMetrics
                },
            },
        ),
        # SegMetrics' own lists only: the ConvertLoop segments (Customers, Leads) are not tags
        ("POST", f"{BASE}/tags/add", {**REFERENCE, "tags": ["Typeform lead"]}),
        ("POST", f"{BASE}/tags/remove", {**REFERENCE, "tags": ["Trial"]}),
    ]
    assert result.calls == ["POST /contact", "POST /tags/add", "POST /tags/remove"]
    assert all(c.request.headers["authorization"] == API_KEY for c in http_mock.calls)


def test_segments_alone_make_no_tag_calls(http_mock, client):
    answer(http_mock, 200)
    segments = Memberships(join=("Customers",), leave=("Leads",))
    action = make_action(identify=True, person={"memberships": {"convertloop": segments}})
    result = segmetrics_adapter.deliver(action, client)
    assert sent(http_mock) == [("POST", f"{BASE}/contact", REFERENCE)]
    assert result.calls == ["POST /contact"]


def test_identify_with_email_only_and_no_tags(http_mock, client):
    answer(http_mock, 200)
    action = make_action(identify=True, stripe_customer_id=None, person={"first_name": "Jane"})
    segmetrics_adapter.deliver(action, client)
    assert json_body(only_request(http_mock)) == {"email": EMAIL, "first_name": "Jane"}


def test_track_only_actions_are_skipped(http_mock, client):
    result = segmetrics_adapter.deliver(actions.track_action(), client)
    assert result.skipped and not result.calls
    assert http_mock.calls.call_count == 0
