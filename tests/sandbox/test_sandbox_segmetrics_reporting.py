"""SegMetrics reporting API: documented shapes, built from what was imported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.sandbox import SandboxServer

TODAY = datetime.now(UTC).date()


@pytest.fixture
def imported(segmetrics: httpx.Client) -> None:
    day = TODAY.isoformat()
    contacts = [
        {"contact_id": 1004, "email": "linda@example.com", "first_name": "Linda", "utm_medium": "cpc"},
        {"contact_id": 1005, "email": "sam@example.com", "utm_source": "facebook", "custom_fields": {"City": "X"}},
        {"email": "old@example.com", "date_created": "2001-01-01 00:00:00"},
    ]
    for contact in contacts:
        assert segmetrics.post("/contact", json=contact).status_code == 200
    assert segmetrics.post(
        "/tags/add", json={"contact_id": 1004, "tags": [{"id": 115, "name": "blueprint"}]}
    ).is_success
    invoice = {
        "contact_id": 1004,
        "id": 26,
        "amount": 500,
        "paid": 500,
        "date_created": f"{day} 10:00:00",
        "items": [{"name": "Launching a Marketing Plan", "product_id": 7, "amount": 500}],
    }
    assert segmetrics.post("/invoice", json=invoice).is_success
    subscription = {
        "contact_id": 1005,
        "id": "sub_1",
        "amount": 12000,
        "product_id": 8,
        "name": "Annual",
        "start_date": f"{day} 09:00:00",
        "last_bill_date": f"{day} 09:00:00",
        "billing_cycle": "year",
        "frequency": 1,
    }
    assert segmetrics.post("/subscription", json=subscription).is_success
    ad = {
        "ad": {"id": 1, "name": "Spring", "adcampaign": 3, "adset": 2},
        "spend": 300,
        "clicks": 10,
        "impressions": 1000,
        "date": day,
    }
    assert segmetrics.post("/ad/performance", json=ad).is_success


def test_reporting_auth_and_account(raw: httpx.Client, sandbox: SandboxServer, reporting: httpx.Client) -> None:
    url = f"{sandbox.base_urls()['SEGMETRICS_REPORTING_BASE_URL']}/sandbox-account/report/leads"
    assert raw.get(url).status_code == 401
    assert raw.get(url, headers={"Authorization": "nope"}).json()["status"] == "error"
    other = url.replace("sandbox-account", "other-account")
    assert raw.get(other, headers={"Authorization": "sandbox-segmetrics-key"}).status_code == 404
    assert reporting.get("/report/leads").status_code == 200


@pytest.mark.usefixtures("imported")
def test_leads_report_shape_and_numbers(reporting: httpx.Client) -> None:
    report = reporting.get("/report/leads", params={"scale": "day"}).json()
    assert set(report) == {"report", "kpis", "graph", "table"}
    assert report["report"]["type"] == "leads"
    assert report["report"]["date_range"]["end"] == TODAY.isoformat()
    kpis = {kpi["key"]: kpi["value"] for kpi in report["kpis"]}
    assert kpis["leads"] == 2  # the 2001 contact is outside the default 30 days
    assert kpis["numOfCustomers"] == 1
    assert kpis["revenue"] == 500
    assert kpis["conversionRate"] == 50
    assert len(report["graph"]["labels"]) == 30
    assert report["graph"]["datasets"][0]["data"][-1] == 2
    rows = {row["channel"]: row for row in report["table"]["rows"]}
    assert rows["paid"]["revenue"] == 500
    assert rows["social"]["leads"] == 1
    assert [field["key"] for field in report["table"]["fields"]][:2] == ["channel", "leads"]


@pytest.mark.usefixtures("imported")
def test_other_report_types(reporting: httpx.Client) -> None:
    revenue = {k["key"]: k["value"] for k in reporting.get("/report/revenue/12").json()["kpis"]}
    assert (revenue["revenue"], revenue["numOfOrders"]) == (500, 1)
    subscriptions = {k["key"]: k["value"] for k in reporting.get("/report/subscriptions").json()["kpis"]}
    assert subscriptions["activeSubscriptions"] == 1
    assert subscriptions["mrr"] == 1000  # 12000 a year
    ads = reporting.get("/report/ads", params={"scale": "month"}).json()
    assert {k["key"]: k["value"] for k in ads["kpis"]}["adSpend"] == 300
    assert ads["table"]["rows"] == [{"ad": "Spring", "adSpend": 300, "clicks": 10, "impressions": 1000}]
    assert ads["graph"]["labels"][-1] == TODAY.replace(day=1).isoformat()


def test_report_parameters_are_validated(reporting: httpx.Client) -> None:
    assert reporting.get("/report/churn").status_code == 400
    assert reporting.get("/report/leads", params={"scale": "hour"}).json()["status"] == "error"
    assert reporting.get("/report/leads", params={"start": "2021-02-01", "end": "2021-01-01"}).status_code == 400
    assert reporting.get("/report/leads", params={"start": "whenever"}).status_code == 400
    assert reporting.get("/report/leads/contacts", params={"limit": 101}).status_code == 400
    assert reporting.get("/report/leads/contacts", params={"extend": "tags,friends"}).status_code == 400


@pytest.mark.usefixtures("imported")
def test_relative_and_body_parameters(reporting: httpx.Client) -> None:
    report = reporting.get("/report/leads", params={"start": "-6 days", "end": "today"}).json()
    assert report["report"]["date_range"]["start"] == (TODAY - timedelta(days=6)).isoformat()
    # The document's curl example sends the parameters as a body, even on GET.
    response = reporting.request("GET", "/report/leads", content=b"start=2000-01-01&end=2001-12-31")
    assert {k["key"]: k["value"] for k in response.json()["kpis"]}["leads"] == 1


@pytest.mark.usefixtures("imported")
def test_customer_journey_pagination(reporting: httpx.Client) -> None:
    page = reporting.get("/report/leads/7/contacts", params={"limit": 1, "page": 2, "extend": "tags"}).json()
    assert page["meta"] | {"path": None} == {
        "current_page": 2,
        "from": 2,
        "last_page": 2,
        "path": None,
        "per_page": 1,
        "to": 2,
        "total": 2,
    }
    assert [c["email"] for c in page["data"]] == ["sam@example.com"]
    assert page["data"][0]["tags"] == []
    assert "orders" not in page["data"][0]


@pytest.mark.usefixtures("imported")
def test_get_contact_by_id_or_email_with_extensions(reporting: httpx.Client) -> None:
    contact = reporting.get("/contact/1004", params={"extend": "tags,orders,subscriptions,events"}).json()["data"]
    assert contact["email"] == "linda@example.com"
    assert contact["contact_id"] == "1004"
    assert contact["tags"][0] | {"date_created": None} == {
        "tag_id": "115",
        "name": "blueprint",
        "contact_id": "1004",
        "date_created": None,
    }
    order = contact["orders"][0]
    assert (order["order_id"], order["total"], order["is_paid"]) == ("26", 500, True)
    assert order["line_items"][0]["product_name"] == "Launching a Marketing Plan"
    assert contact["subscriptions"] == []
    assert contact["events"] == []
    by_email = reporting.get("/contact/SAM@example.com").json()["data"]
    assert by_email["custom_fields"] == {"City": "X"}
    assert "tags" not in by_email
    assert reporting.get("/contact/nobody@example.com").status_code == 404
