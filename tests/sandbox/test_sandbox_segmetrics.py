"""SegMetrics import API: raw-key auth, account/integration, required fields, error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devstack.sandbox import SandboxCredentials, SandboxServer

INVOICE: dict[str, Any] = {
    "contact_id": 4,
    "id": 234115,
    "amount": 4500,
    "paid": 4500,
    "is_refunded": 0,
    "date_created": "2018-10-03 11:14:32",
    "items": [
        {"name": "Round Tuit", "product_id": 1556402307145, "amount": 4000, "total_paid": 4000},
        {"name": "Uber Trinket", "product_id": 82638, "amount": 500, "total_paid": 500},
    ],
}
SUBSCRIPTION: dict[str, Any] = {
    "email": "mwiegand@example.com",
    "id": 234115,
    "amount": 4500,
    "product_id": 108,
    "start_date": "2019-12-03 11:14:32",
    "last_bill_date": "2019-12-03 11:14:32",
    "billing_cycle": "month",
    "frequency": 1,
}


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def test_authorization_is_the_raw_api_key(raw: httpx.Client, sandbox: SandboxServer, creds: SandboxCredentials) -> None:
    url = (
        f"{sandbox.base_urls()['SEGMETRICS_BASE_URL']}/{creds.segmetrics_account_id}/"
        f"{creds.segmetrics_integration_id}/contact"
    )
    body = {"email": "a@example.com"}
    for headers in ({}, {"Authorization": "wrong"}, {"Authorization": f"Bearer {creds.segmetrics_api_key}"}):
        response = raw.post(url, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == "error"
    assert raw.post(url, json=body, headers={"Authorization": creds.segmetrics_api_key}).status_code == 200


def test_unknown_account_or_integration_is_404(
    raw: httpx.Client, sandbox: SandboxServer, creds: SandboxCredentials
) -> None:
    base = sandbox.base_urls()["SEGMETRICS_BASE_URL"]
    headers = {"Authorization": creds.segmetrics_api_key}
    for account, integration in (("other", creds.segmetrics_integration_id), (creds.segmetrics_account_id, "other")):
        response = raw.post(f"{base}/{account}/{integration}/contact", json={"email": "a@example.com"}, headers=headers)
        assert response.status_code == 404
        assert response.json() == {"status": "error", "errors": ["unknown account or integration"]}


def test_error_shape_lists_every_missing_field(segmetrics: httpx.Client) -> None:
    response = segmetrics.post("/invoice", json={"contact_id": 4})
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "errors": [
            "missing 'id' field",
            "missing 'amount' field",
            "missing 'paid' field",
            "missing 'date_created' field",
            "missing 'items' field",
        ],
    }


def test_contact_needs_contact_id_or_email(segmetrics: httpx.Client) -> None:
    response = segmetrics.post("/contact", json={"first_name": "Joey"})
    assert response.status_code == 400
    assert response.json()["errors"] == ["missing 'contact_id' or 'email' field"]
    assert segmetrics.post("/contact", json={"contact_id": 249}).json() == {"status": "success"}
    assert segmetrics.post("/contact", json={"email": "joey@example.com"}).json() == {"status": "success"}


def test_contact_field_validation(segmetrics: httpx.Client) -> None:
    response = segmetrics.post(
        "/contact", json={"email": "x@example.com", "status": "gone", "custom_fields": [1], "date_created": "soon"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "'status' must be one of active, inactive",
        "'custom_fields' must be an object",
        "'date_created' is not a valid date",
    }


def test_contact_tags_are_ids_or_objects_never_names(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    # /contact: "List of TagIds or Array of Tag Objects" (names only on /tags/add and /tags/remove)
    named = segmetrics.post("/contact", json={"email": "x@example.com", "tags": [3, "New Lead"]})
    assert named.status_code == 400
    assert named.json()["errors"] == ["'tags[1]' must be one of tag ids or tag objects"]
    assert sandbox.state("segmetrics")["contacts"] == []
    tags = [3, {"name": "New Lead"}, {"id": 45, "name": "2018 Holiday Special", "date": "2018-11-28 09:25:33"}]
    assert segmetrics.post("/contact", json={"email": "x@example.com", "tags": tags}).status_code == 200


def test_contact_attribution_fields_are_never_blank(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    first = {"email": "x@example.com", "utm_source": "facebook", "ip_address": "8.8.8.8"}
    assert segmetrics.post("/contact", json=first).status_code == 200
    blank = segmetrics.post("/contact", json={"email": "x@example.com", "utm_source": "", "utm_medium": 3})
    assert blank.json()["errors"] == [
        "'utm_source' must be a non-empty string",
        "'utm_medium' must be a non-empty string",
    ]
    later = segmetrics.post("/contact", json={"email": "x@example.com", "utm_campaign": "holiday"})
    assert later.status_code == 200
    attribution = sandbox.state("segmetrics")["contacts"][0]["attribution"]
    assert attribution == {"utm_source": "facebook", "ip_address": "8.8.8.8", "utm_campaign": "holiday"}


def test_body_must_be_a_json_object(segmetrics: httpx.Client) -> None:
    response = segmetrics.post("/contact", content=b"[]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_delete_contact_answers_the_documented_body(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    segmetrics.post("/contact", json={"contact_id": 249, "email": "joey@example.com"})
    response = segmetrics.delete("/contact/joey@example.com")
    assert response.json() == {"id": "249", "status": "success", "object": "contact", "deleted": True}
    assert sandbox.state("segmetrics")["contacts"] == []


def test_deleting_a_contact_by_id_keeps_its_invoices_and_subscriptions(
    sandbox: SandboxServer, segmetrics: httpx.Client
) -> None:
    # "This will not delete any invoices or purchases from the contact in the same integration."
    segmetrics.post("/contact", json={"contact_id": "cus_9", "email": "joey@example.com"})
    item = {"name": "Pro", "product_id": 108, "amount": 4500}
    invoice = {"id": 1, "contact_id": "cus_9", "amount": 4500, "paid": 4500, "date_created": "2019-12-03 11:14:32"}
    assert segmetrics.post("/invoice", json={**invoice, "items": [item]}).status_code == 200
    response = segmetrics.delete("/contact/cus_9")
    assert (response.status_code, response.json()["id"]) == (200, "cus_9")
    state = sandbox.state("segmetrics")
    assert state["contacts"] == []
    assert [i["id"] for i in state["invoices"]] == ["1"]
    # Unknown (deleted already, or never there): still the documented success, so a retry holds.
    assert segmetrics.delete("/contact/cus_9").json()["deleted"] is True


@pytest.mark.parametrize("endpoint", ["/tags/add", "/tags/remove"])
def test_tags_require_identity_and_non_empty_tags(segmetrics: httpx.Client, endpoint: str) -> None:
    assert segmetrics.post(endpoint, json={"tags": [3]}).json()["errors"] == ["missing 'contact_id' or 'email' field"]
    assert segmetrics.post(endpoint, json={"contact_id": 249}).json()["errors"] == ["missing 'tags' field"]
    empty = segmetrics.post(endpoint, json={"contact_id": 249, "tags": []})
    assert empty.status_code == 400
    bad_object = segmetrics.post(endpoint, json={"contact_id": 249, "tags": [{"date": "2018-10-02"}]})
    assert bad_object.json()["errors"] == ["missing 'tags[0].id' or 'tags[0].name' field"]


def test_tags_by_ids_names_and_objects(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": [3, 45]}).status_code == 200
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": ["New Lead"]}).status_code == 200
    objects = [{"id": 8, "name": "Platinum Customer", "date": "2018-11-28 09:28:42"}]
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": objects}).status_code == 200
    assert segmetrics.post("/tags/remove", json={"contact_id": 249, "tags": [45, "New Lead"]}).status_code == 200
    contact = sandbox.state("segmetrics")["contacts"][0]
    assert sorted(contact["tags"]) == ["3", "8"]


def test_invoice_item_fields_are_required(segmetrics: httpx.Client) -> None:
    body = {**INVOICE, "items": [{"name": "Round Tuit", "amount": 4000}, {"product_id": 1}]}
    response = segmetrics.post("/invoice", json=body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "missing 'items[0].product_id' field",
        "missing 'items[1].name' field",
        "missing 'items[1].amount' field",
    ]
    assert segmetrics.post("/invoice", json={**INVOICE, "items": []}).json()["errors"] == ["missing 'items' field"]


@pytest.mark.parametrize("bad", [45.5, "4500", 4500.0, True])
def test_amounts_are_integer_cents(sandbox: SandboxServer, segmetrics: httpx.Client, bad: object) -> None:
    invoice = {**INVOICE, "paid": bad, "tax": bad, "items": [{**INVOICE["items"][0], "amount": bad}]}
    assert segmetrics.post("/invoice", json=invoice).json()["errors"] == [
        "'paid' must be an integer number of cents",
        "'tax' must be an integer number of cents",
        "'items[0].amount' must be an integer number of cents",
    ]
    subscription = segmetrics.post("/subscription", json={**SUBSCRIPTION, "amount": bad})
    assert subscription.json()["errors"] == ["'amount' must be an integer number of cents"]
    state = sandbox.state("segmetrics")
    assert (state["invoices"], state["subscriptions"]) == ([], [])


@pytest.mark.parametrize("flag", ["yes", "0", 2, 1.0])
def test_refunded_flag_is_0_1_or_a_boolean(segmetrics: httpx.Client, flag: object) -> None:
    response = segmetrics.post("/invoice", json={**INVOICE, "is_refunded": flag})
    assert response.json()["errors"] == ["'is_refunded' must be one of 0, 1, false, true"]
    for accepted in (0, 1, True, False):
        assert segmetrics.post("/invoice", json={**INVOICE, "is_refunded": accepted}).status_code == 200


@pytest.mark.parametrize("field", ["id", "amount", "paid", "date_created", "items"])
def test_invoice_required_fields(segmetrics: httpx.Client, field: str) -> None:
    response = segmetrics.post("/invoice", json=_without(INVOICE, field))
    assert response.status_code == 400
    assert response.json()["errors"] == [f"missing '{field}' field"]


def test_invoice_add_and_delete(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/invoice", json=INVOICE).json() == {"status": "success"}
    state = sandbox.state("segmetrics")
    assert state["invoices"][0]["amount"] == 4500
    assert {p["id"] for p in state["products"]} == {"1556402307145", "82638"}  # created from the items
    response = segmetrics.delete("/invoice/234115")
    assert response.json() == {"id": "234115", "status": "success", "object": "invoice", "deleted": True}
    assert sandbox.state("segmetrics")["invoices"] == []


@pytest.mark.parametrize(
    "field", ["id", "amount", "product_id", "start_date", "last_bill_date", "billing_cycle", "frequency"]
)
def test_subscription_required_fields(segmetrics: httpx.Client, field: str) -> None:
    response = segmetrics.post("/subscription", json=_without(SUBSCRIPTION, field))
    assert response.status_code == 400
    assert response.json()["errors"] == [f"missing '{field}' field"]


def test_subscription_needs_contact_and_valid_cycle(segmetrics: httpx.Client) -> None:
    response = segmetrics.post("/subscription", json=_without(SUBSCRIPTION, "email"))
    assert response.json()["errors"] == ["missing 'contact_id' or 'email' field"]
    bad = segmetrics.post("/subscription", json={**SUBSCRIPTION, "billing_cycle": "quarter", "frequency": 0})
    assert set(bad.json()["errors"]) == {
        "'billing_cycle' must be one of year, month, week, day",
        "'frequency' must be an integer >= 1",
    }


def test_subscription_end_date_must_be_in_the_future(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    # "A date in the future at which the subscription will automatically get canceled"
    past = segmetrics.post("/subscription", json={**SUBSCRIPTION, "end_date": "2020-01-03 00:00:00"})
    assert past.status_code == 400
    assert past.json()["errors"] == ["'end_date' must be a date in the future"]
    assert sandbox.state("segmetrics")["subscriptions"] == []
    ahead = segmetrics.post("/subscription", json={**SUBSCRIPTION, "end_date": "2099-01-03 00:00:00"})
    assert ahead.status_code == 200
    assert sandbox.state("segmetrics")["subscriptions"][0]["end_date"] == "2099-01-03T00:00:00+00:00"


def test_subscription_upsert_and_delete(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/subscription", json=SUBSCRIPTION).status_code == 200
    canceled = {**SUBSCRIPTION, "canceled_date": "2020-01-03 00:00:00"}
    assert segmetrics.post("/subscription", json=canceled).status_code == 200
    subscriptions = sandbox.state("segmetrics")["subscriptions"]
    assert len(subscriptions) == 1
    assert subscriptions[0]["canceled_date"] == "2020-01-03T00:00:00+00:00"
    response = segmetrics.delete("/subscription/234115")
    assert response.json() == {"id": "234115", "status": "success", "object": "subscription", "deleted": True}


def test_product_requires_id_and_name(segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/product", json={"id": 1}).json()["errors"] == ["missing 'name' field"]
    assert segmetrics.post("/product", json={"name": "x"}).json()["errors"] == ["missing 'id' field"]
    assert segmetrics.post("/product", json={"id": 1, "name": "Round Tuit"}).status_code == 200


def test_ad_performance(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/ad/performance", json={"spend": 1}).json()["errors"] == [
        "missing 'ad' field",
        "missing 'date' field",
    ]
    body = {
        "ad": 5489788855,
        "adcampaign": {"id": 123456789, "name": "My Amazing Ad Campaign"},
        "adset": {"id": 5678910, "name": "My Amazing Ad Set", "adcampaign": 123456789},
        "spend": 4500,
        "clicks": 7844,
        "impressions": 15487,
        "date": "2018-10-03",
    }
    assert segmetrics.post("/ad/performance", json=body).status_code == 200
    # An object is created on the fly: every documented field is required.
    assert segmetrics.post("/ad/performance", json={**body, "adset": {"id": 1}}).json()["errors"] == [
        "missing 'adset.name' field",
        "missing 'adset.adcampaign' field",
    ]
    incomplete_ad = {**body, "ad": {"id": 7, "name": "Spring", "adset": 5678910}}
    assert segmetrics.post("/ad/performance", json=incomplete_ad).json()["errors"] == ["missing 'ad.adcampaign' field"]
    assert segmetrics.post("/ad/performance", json={**body, "spend": 45.5}).json()["errors"] == [
        "'spend' must be an integer number of cents"
    ]
    state = sandbox.state("segmetrics")
    assert state["ad_performance"][0]["spend"] == 4500
    assert state["adsets"][0]["adcampaign"] == "123456789"


def test_trailing_slash_and_unknown_endpoint(segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/contact/", json={"email": "a@example.com"}).status_code == 200
    assert segmetrics.post("/orders", json={}).status_code == 404
