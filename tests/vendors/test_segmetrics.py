"""SegMetrics client: every import endpoint and the reporting API, exactly as documented."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime

import httpx
import pytest

from webhook_bridge.vendors.exceptions import BadRequestError, RequestValidationError, UnexpectedResponseError
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient
from webhook_bridge.vendors.segmetrics.models import (
    AdPerformanceRequest,
    ContactRequest,
    InvoiceRequest,
    SubscriptionRequest,
    TagsRequest,
)

from .conftest import API_KEY, EMAIL, answer, only_request, sent_once

IMPORT = "https://import.segmetrics.io/api/v1/acct1/integ1"
REPORTING = "https://api.segmetrics.io/acct1"
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


def test_delete_invoice(http_mock, client):
    answer(http_mock, 200, json={"id": "in_1", "status": "success", "object": "invoice", "deleted": True})
    client.delete_invoice("in_1")
    assert_sent(http_mock, "DELETE", f"{IMPORT}/invoice/in_1")


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


def test_delete_subscription(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)
    client.delete_subscription("sub_1")
    assert_sent(http_mock, "DELETE", f"{IMPORT}/subscription/sub_1")


def test_add_product(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)
    client.add_product({"id": "prod_1", "name": "Widget"})
    assert_sent(http_mock, "POST", f"{IMPORT}/product", {"id": "prod_1", "name": "Widget"})


def test_record_ad_performance_with_objects(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)

    client.record_ad_performance(
        AdPerformanceRequest(
            ad=5489788855,
            adcampaign={"id": 123456789, "name": "My Amazing Ad Campaign"},
            adset={"id": 5678910, "name": "My Amazing Ad Set", "adcampaign": 123456789},
            spend=4500,
            clicks=7844,
            impressions=15487,
            date=date(2018, 10, 3),
        )
    )

    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/ad/performance",
        {
            "ad": 5489788855,
            "adcampaign": {"id": 123456789, "name": "My Amazing Ad Campaign"},
            "adset": {"id": 5678910, "name": "My Amazing Ad Set", "adcampaign": 123456789},
            "spend": 4500,
            "clicks": 7844,
            "impressions": 15487,
            "date": "2018-10-03",
        },
    )


def test_record_ad_performance_with_an_ad_object_and_ids(http_mock, client):
    answer(http_mock, 200, json=SUCCESS)
    client.record_ad_performance(
        {"ad": {"id": 1, "name": "Ad", "adcampaign": 2, "adset": 3}, "adset": 3, "spend": 0, "date": "2018-10-03"}
    )
    assert_sent(
        http_mock,
        "POST",
        f"{IMPORT}/ad/performance",
        {"ad": {"id": 1, "name": "Ad", "adcampaign": 2, "adset": 3}, "adset": 3, "spend": 0, "date": "2018-10-03"},
    )


def test_custom_base_url(http_mock):
    answer(http_mock, 200, json=SUCCESS)
    SegMetricsClient("a b", "i/1", API_KEY, base_url="http://localhost:9000/sm/api/v1").add_product(
        {"id": 1, "name": "x"}
    )
    assert str(only_request(http_mock).url) == "http://localhost:9000/sm/api/v1/a%20b/i%2F1/product"


def test_400_errors_list_is_on_the_exception(http_mock, client):
    answer(http_mock, 400, json={"status": "error", "errors": ["missing 'id' field "]})
    with pytest.raises(BadRequestError) as caught:
        client.add_product({"id": 1, "name": "x"})
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
        ("add_subscription", _subscription(quantity=0), "quantity"),
        ("add_subscription", _subscription(product_id=None), "product_id"),
        ("add_subscription", _subscription(start_date=None), "start_date"),
        ("add_subscription", _subscription(last_bill_date=None), "last_bill_date"),
        ("add_subscription", _subscription(email=None), "contact_id or email is required"),
        ("add_subscription", _subscription(amount=45.5), "amount"),
        ("add_subscription", _subscription(end_date=datetime(2020, 1, 3, tzinfo=UTC)), "end_date must be in the fut"),
        ("add_product", {"id": 1}, "name"),
        ("add_product", {"name": "x"}, "id"),
        ("record_ad_performance", {"spend": 1, "date": "2018-10-03"}, "ad"),
        ("record_ad_performance", {"ad": 1, "date": "2018-10-03"}, "spend"),
        ("record_ad_performance", {"ad": 1, "spend": 1}, "date"),
        ("record_ad_performance", {"ad": {"id": 1}, "spend": 1, "date": "2018-10-03"}, "ad"),
        # an ad object names its ad set and campaign; an ad set object its campaign
        ("record_ad_performance", {"ad": {"id": 1, "name": "A", "adset": 2}, "spend": 1, "date": "2018-10-03"}, "ad"),
        (
            "record_ad_performance",
            {"ad": 1, "adset": {"id": 2, "name": "S"}, "spend": 1, "date": "2018-10-03"},
            "adcampaign",
        ),
        ("record_ad_performance", {"ad": 1, "spend": 45.5, "date": "2018-10-03"}, "spend"),
        ("record_ad_performance", {"ad": 1, "spend": -1, "date": "2018-10-03"}, "spend"),
        ("record_ad_performance", {"ad": 1, "spend": 1, "date": "2018-10-03", "clicks": -2}, "clicks"),
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
    for call in (client.delete_contact, client.delete_invoice, client.delete_subscription):
        with pytest.raises(RequestValidationError):
            call(bad)
    assert http_mock.calls.call_count == 0


# -- reporting API ----------------------------------------------------------------------


def test_get_report_with_id_and_period(http_mock, client):
    answer(http_mock, 200, json={"report": {"name": "New Lead Report"}, "kpis": []})

    report = client.get_report("leads", 12, start=date(2020, 1, 1), end="2020-11-24", scale="week")

    assert_sent(http_mock, "GET", f"{REPORTING}/report/leads/12?start=2020-01-01&end=2020-11-24&scale=week")
    assert report["report"]["name"] == "New Lead Report"


def test_get_report_without_id_or_options(http_mock, client):
    answer(http_mock, 200, json={})
    client.get_report("revenue")
    assert_sent(http_mock, "GET", f"{REPORTING}/report/revenue")


def test_customer_journey_page(http_mock, client):
    answer(
        http_mock,
        200,
        json={
            "data": [{"contact_id": "1004", "email": "linda.dare@example.com"}],
            "meta": {"current_page": 2, "from": 21, "last_page": 5, "per_page": 20, "to": 40, "total": 85},
        },
    )

    page = client.get_customer_journey(
        "ads", "7", start="2020-01-01", end=date(2020, 11, 24), extend=["tags", "events"], limit=20, page=2
    )

    assert_sent(
        http_mock,
        "GET",
        f"{REPORTING}/report/ads/7/contacts?start=2020-01-01&end=2020-11-24&extend=tags%2Cevents&limit=20&page=2",
    )
    assert page.data == [{"contact_id": "1004", "email": "linda.dare@example.com"}]
    assert page.meta.current_page == 2 and page.meta.last_page == 5 and page.meta.total == 85
    assert page.meta.from_ == 21
    assert page.has_next


def test_customer_journey_without_report_id(http_mock, client):
    answer(http_mock, 200, json={"data": [], "meta": {"current_page": 1, "last_page": 1}})
    page = client.get_customer_journey("subscriptions", extend="orders,subscriptions")
    assert_sent(http_mock, "GET", f"{REPORTING}/report/subscriptions/contacts?extend=orders%2Csubscriptions")
    assert not page.has_next


def test_iterating_the_customer_journey_walks_every_page(http_mock, client):
    pages = {
        "1": {"data": [{"contact_id": "1"}, {"contact_id": "2"}], "meta": {"current_page": 1, "last_page": 3}},
        "2": {"data": [{"contact_id": "3"}], "meta": {"current_page": 2, "last_page": 3}},
        "3": {"data": [{"contact_id": "4"}], "meta": {"current_page": 3, "last_page": 3}},
    }
    http_mock.get(url__startswith=f"{REPORTING}/report/leads/contacts").mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params["page"]])
    )

    contacts = list(client.iter_customer_journey("leads", limit=2))

    assert [c["contact_id"] for c in contacts] == ["1", "2", "3", "4"]
    assert [call.request.url.params["page"] for call in http_mock.calls] == ["1", "2", "3"]
    assert all(call.request.url.params["limit"] == "2" for call in http_mock.calls)


def test_iteration_stops_even_if_the_server_ignores_the_page(http_mock, client):
    answer(http_mock, 200, json={"data": [{"contact_id": "1"}], "meta": {"current_page": 1, "last_page": 3}})
    assert len(list(client.iter_customer_journey("leads"))) == 3
    assert http_mock.calls.call_count == 3


def test_get_contact_returns_its_data(http_mock, client):
    answer(http_mock, 200, json={"data": {"contact_id": "1004", "first_name": "Linda"}})
    contact = client.get_contact(EMAIL, extend=["tags", "events"])
    assert_sent(http_mock, "GET", f"{REPORTING}/contact/jane.doe%40example.com?extend=tags%2Cevents")
    assert contact == {"contact_id": "1004", "first_name": "Linda"}


@pytest.mark.parametrize(
    ("call", "answered"),
    [
        # the document answers {"data": {...}}: the answer itself is not the contact
        (lambda c: c.get_contact(EMAIL), {"contact_id": "1004", "email": EMAIL}),
        (lambda c: c.get_contact(EMAIL), {"data": [{"email": EMAIL}]}),
        (lambda c: c.get_customer_journey("leads"), [{"email": EMAIL}]),
        (lambda c: c.get_customer_journey("leads"), {"data": {"email": EMAIL}, "meta": {}}),
    ],
)
def test_reporting_answers_not_shaped_as_documented_are_refused(http_mock, client, call, answered):
    answer(http_mock, 200, json=answered)
    with pytest.raises(UnexpectedResponseError) as caught:
        call(client)
    assert not caught.value.retryable
    assert EMAIL not in str(caught.value)


def test_custom_reporting_base_url(http_mock):
    answer(http_mock, 200, json={"data": {}})
    SegMetricsClient("acct1", "integ1", API_KEY, reporting_base_url="http://localhost:9001/").get_contact(1004)
    assert str(only_request(http_mock).url) == "http://localhost:9001/acct1/contact/1004"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda c: c.get_report("clicks"), "report_type"),
        (lambda c: c.get_report("leads", scale="year"), "scale"),
        (lambda c: c.get_report("leads", start=""), "start"),
        (lambda c: c.get_customer_journey("leads", limit=0), "limit"),
        (lambda c: c.get_customer_journey("leads", limit=101), "limit"),
        (lambda c: c.get_customer_journey("leads", page=0), "page"),
        (lambda c: c.get_customer_journey("leads", extend=["payments"]), "extend"),
        (lambda c: c.get_contact("", extend=None), "contact"),
        (lambda c: c.get_contact(EMAIL, extend="tags,everything"), "extend"),
    ],
)
def test_invalid_reporting_arguments_are_rejected_before_any_call(http_mock, client, call, reason):
    with pytest.raises(RequestValidationError, match=reason):
        call(client)
    assert http_mock.calls.call_count == 0
