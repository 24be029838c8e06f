"""SegMetrics client: every import endpoint and the reporting API, exactly as documented."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

import pytest

from webhook_bridge.vendors.exceptions import BadRequestError, RequestValidationError
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient
from webhook_bridge.vendors.segmetrics.models import (
    ContactRequest,
    InvoiceRequest,
    SubscriptionRequest,
    TagsRequest,
)

from .conftest import API_KEY, EMAIL, answer, only_request, sent_once

IMPORT = "https://import.segmetrics.io/api/v1/acct1/integ1"
SUCCESS = {"status": "success"}


@pytest.fixture
def client() -> SegMetricsClient:
    return SegMetricsClient("acct1", "integ1", API_KEY)


assert_sent = functools.partial(sent_once, authorization=API_KEY)  # the raw key, no scheme


def test_upsert_contact(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)

    result = client.upsert_contact(
        ContactRequest(
            contact_id=249,
            email="joey@bloggs.com",
            first_name="Joey",
            last_name="Bloggs",
            status="active",
            date_created=datetime(2018, 10, 2, 16, 15, tzinfo=UTC),
            utm_source="facebook",
            affiliate_id=123,
            geo_lat="45.523064",
            geo_lon=-122.676483,
            tags=[
                3,
                {"name": "New Lead"},
                {"id": 45, "name": "2018 Holiday Special", "date": datetime(2018, 11, 28, 9, 25, 33)},
            ],
            custom_fields={"shirt_size": "Medium", "field_to_remove": None},
        )
    )

    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/contact",
        {
            "contact_id": 249,
            "email": "joey@bloggs.com",
            "first_name": "Joey",
            "last_name": "Bloggs",
            "status": "active",
            "date_created": "2018-10-02 16:15:00",
            "utm_source": "facebook",
            "affiliate_id": "123",
            "geo_lat": "45.523064",
            "geo_lon": "-122.676483",
            "tags": [
                3,
                {"name": "New Lead"},
                {"id": 45, "name": "2018 Holiday Special", "date": "2018-11-28 09:25:33"},
            ],
            "custom_fields": {"shirt_size": "Medium", "field_to_remove": None},
        },
    )
    assert result == SUCCESS


def test_delete_contact_by_email(http_mock, client):
    answer(http_mock, 200, json={"id": "1", "status": "success", "object": "contact", "deleted": True})
    assert client.delete_contact(EMAIL)["deleted"] is True
    assert_sent(http_mock, "DELETE", f"{IMPORT}/contact/jane.doe%40example.com")


def test_delete_contact_by_id(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)
    client.delete_contact(249)
    assert_sent(http_mock, "DELETE", f"{IMPORT}/contact/249")


@pytest.mark.parametrize(
    "tags",
    [
        [3, 45, 8],
        ["New Lead", "2018 Holiday Special"],
        [{"id": 3, "name": "New Lead", "date": "2018-10-02 16:15:00"}],
    ],
)
def test_add_tags_by_ids_names_or_objects(http_mock, client, tags):
    answer(http_mock, 200, json=SUCCESS)
    client.add_tags({"contact_id": 249, "tags": tags})
    assert_sent(http_mock, "POST", f"{IMPORT}/tags/add", {"contact_id": 249, "tags": tags})


def test_remove_tags(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)
    client.remove_tags({"email": EMAIL, "tags": [{"id": 3, "name": "New Lead"}, "Platinum Customer", 8]})
    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/tags/remove",
        {"email": EMAIL, "tags": [{"id": 3, "name": "New Lead"}, "Platinum Customer", 8]},
    )


def test_add_invoice(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)

    client.add_invoice(
        InvoiceRequest(
            contact_id=4,
            id=234115,
            amount=4500,
            paid=4500,
            is_refunded=False,
            date_created=datetime(2018, 10, 3, 11, 14, 32, tzinfo=UTC),
            items=[
                {"name": "Round Tuit", "product_id": 1556402307145, "amount": 4000, "total_paid": 4000},
                {"id": "li_2", "name": "Uber Trinket", "product_id": 82638, "amount": 500, "subscription_id": "s1"},
            ],
            discount=100,
            tax=50,
            shipping=0,
        )
    )

    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/invoice",
        {
            "contact_id": 4,
            "id": 234115,
            "amount": 4500,
            "paid": 4500,
            "is_refunded": 0,
            "date_created": "2018-10-03 11:14:32",
            "items": [
                {"name": "Round Tuit", "product_id": 1556402307145, "amount": 4000, "total_paid": 4000},
                {"id": "li_2", "name": "Uber Trinket", "product_id": 82638, "amount": 500, "subscription_id": "s1"},
            ],
            "discount": 100,
            "tax": 50,
            "shipping": 0,
        },
    )


def test_add_subscription(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)

    client.add_subscription(
        SubscriptionRequest(
            email="mwiegand@gmail.com",
            id=234115,
            amount=4500,
            product_id=108,
            start_date=datetime(2019, 12, 3, 11, 14, 32, tzinfo=UTC),
            last_bill_date=datetime(2019, 12, 3, 11, 14, 32, tzinfo=UTC),
            billing_cycle="month",
            frequency=1,
            name="Pro plan",
            quantity=2,
            trial_end_date=datetime(2019, 12, 17, tzinfo=UTC),
            canceled_date=datetime(2020, 1, 1, tzinfo=UTC),
            end_date=datetime(2099, 1, 3, tzinfo=UTC),
        )
    )

    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/subscription",
        {
            "email": "mwiegand@gmail.com",
            "id": 234115,
            "amount": 4500,
            "product_id": 108,
            "start_date": "2019-12-03 11:14:32",
            "last_bill_date": "2019-12-03 11:14:32",
            "billing_cycle": "month",
            "frequency": 1,
            "name": "Pro plan",
            "quantity": 2,
            "trial_end_date": "2019-12-17 00:00:00",
            "end_date": "2099-01-03 00:00:00",
            "canceled_date": "2020-01-01 00:00:00",
        },
    )


def test_custom_base_url(http_mock):
    answer(http_mock, 200, json=SUCCESS)
    SegMetricsClient("a b", "i/1", API_KEY, base_url="http://localhost:9000/sm/api/v1").delete_contact(4)
    assert str(only_request(http_mock).url) == "http://localhost:9000/sm/api/v1/a%20b/i%2F1/contact/4"


def test_400_errors_list_is_on_the_exception(http_mock, client):
    answer(http_mock, 400, json={"status": "error", "errors": ["missing 'id' field "]})
    with pytest.raises(BadRequestError) as caught:
        client.upsert_contact({"contact_id": 1, "email": EMAIL})
    assert caught.value.errors == ["missing 'id' field "]


# -- validation: nothing leaves when the document says the request is invalid ---------


def _invoice(**overrides):
    invoice = {
        "id": 1,
        "contact_id": 4,
        "amount": 4500,
        "paid": 4500,
        "date_created": datetime(2018, 10, 3, tzinfo=UTC),
        "items": [{"name": "Round Tuit", "product_id": 1, "amount": 4500}],
    }
    invoice.update(overrides)
    return {k: v for k, v in invoice.items() if v is not None}


def _subscription(**overrides):
    subscription = {
        "id": 1,
        "email": EMAIL,
        "amount": 4500,
        "product_id": 108,
        "start_date": datetime(2019, 12, 3, tzinfo=UTC),
        "last_bill_date": datetime(2019, 12, 3, tzinfo=UTC),
        "billing_cycle": "month",
        "frequency": 1,
    }
    subscription.update(overrides)
    return {k: v for k, v in subscription.items() if v is not None}


@pytest.mark.parametrize(
    ("method", "payload", "reason"),
    [
        ("upsert_contact", {"first_name": "Joey"}, "contact_id or email is required"),
        ("upsert_contact", {"email": EMAIL, "status": "deleted"}, "status"),
        ("upsert_contact", {"email": EMAIL, "unknown_field": 1}, "unknown_field"),
        # /contact takes "List of TagIds or Array of Tag Objects": a bare name is refused
        ("upsert_contact", {"email": EMAIL, "tags": ["New Lead"]}, "tags.0"),
        ("upsert_contact", {"email": EMAIL, "utm_source": " "}, "utm_source"),
        ("upsert_contact", {"email": EMAIL, "geo_lat": float("nan")}, "geo_lat"),
        ("upsert_contact", {"email": EMAIL, "geo_lon": ""}, "geo_lon"),
        ("add_tags", {"contact_id": 249, "tags": []}, "tags"),
        ("add_tags", {"contact_id": 249}, "tags"),
        ("add_tags", {"tags": [1]}, "contact_id or email is required"),
        ("add_tags", {"email": EMAIL, "tags": [{"date": "2018-10-02 16:15:00"}]}, "id or a name"),
        ("remove_tags", {"email": EMAIL, "tags": []}, "tags"),
        ("remove_tags", {"email": EMAIL, "tags": [""]}, "tags"),
        ("add_invoice", _invoice(id=None), "id"),
        ("add_invoice", _invoice(contact_id=None), "contact_id or email is required"),
        ("add_invoice", _invoice(amount=None), "amount"),
        ("add_invoice", _invoice(amount=45.5), "amount"),
        ("add_invoice", _invoice(paid="4500"), "paid"),
        ("add_invoice", _invoice(date_created=None), "date_created"),
        ("add_invoice", _invoice(items=[]), "items"),
        ("add_invoice", _invoice(items=[{"name": "x", "amount": 1}]), "product_id"),
        ("add_invoice", _invoice(items=[{"product_id": 1, "amount": 1}]), "name"),
        ("add_invoice", _invoice(items=[{"name": "x", "product_id": 1}]), "amount"),
        ("add_subscription", _subscription(billing_cycle="quarter"), "billing_cycle"),
        ("add_subscription", _subscription(frequency=0), "frequency"),
        ("add_subscription", _subscription(frequency=1.5), "frequency"),
        ("add_subscription", _subscription(quantity=-1), "quantity"),
        ("add_subscription", _subscription(product_id=None), "product_id"),
        ("add_subscription", _subscription(start_date=None), "start_date"),
        ("add_subscription", _subscription(last_bill_date=None), "last_bill_date"),
        ("add_subscription", _subscription(email=None), "contact_id or email is required"),
        ("add_subscription", _subscription(amount=45.5), "amount"),
        ("add_subscription", _subscription(end_date=datetime(2020, 1, 3, tzinfo=UTC)), "end_date must be in the fut"),
    ],
)
def test_invalid_requests_are_rejected_before_any_call(http_mock, client, method, payload, reason):
    with pytest.raises(RequestValidationError) as caught:
        getattr(client, method)(payload)
    assert reason in str(caught.value)
    assert caught.value.vendor == "segmetrics"
    assert http_mock.calls.call_count == 0


def test_tags_request_model_rejects_empty_tags_when_built():
    with pytest.raises(RequestValidationError, match="tags"):
        TagsRequest(contact_id=1, tags=[])


@pytest.mark.parametrize("bad", ["", "  "])
def test_delete_needs_an_identifier(http_mock, client, bad):
    with pytest.raises(RequestValidationError):
        client.delete_contact(bad)
    assert http_mock.calls.call_count == 0


def test_a_subscription_of_quantity_zero_is_sent(http_mock, client):
    """The document sets no lower bound ("Defaults to 1"), and Stripe allows no seats yet."""
    answer(http_mock, 200, json=SUCCESS)
    client.add_subscription(_subscription(quantity=0))
    sent = json.loads(only_request(http_mock).content)
    assert sent["quantity"] == 0
