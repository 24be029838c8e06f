"""SegMetrics import API: account/integration, required fields, error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devstack.sandbox import SandboxServer
from tests.sandbox.conftest import answers, send

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

DOCUMENTED_CONTACT: dict[str, Any] = {
    "contact_id": 249,
    "first_name": "Joey",
    "last_name": "Bloggs",
    "email": "joey@example.com",
    "status": "active",
    "date_created": "2018-10-02 16:15:00",
    "last_updated": "2018-11-28 09:28:42",
    "utm_source": "facebook",
    "utm_content": "holiday special",
    "utm_medium": "facebook",
    "utm_campaign": "holiday",
    "utm_term": "awesomeness",
    "referring_url": "reallycoolurl.com",
    "optin_url": "evencoolerurl.com",
    "ip_address": "8.8.8.8",
    "affiliate_id": "123",
    "geo_lat": "45.523064",
    "geo_lon": "-122.676483",
    "tags": [{"id": 3, "name": "New Lead", "date": "2018-10-02 16:15:00"}],
    "custom_fields": {"shirt_size": "Medium", "Awesome Sauce": "Applesauce2", "field_to_remove": None},
}

NO_IDENTITY = ["missing 'contact_id' or 'email' field"]
TAG_REFUSALS: list[tuple[dict[str, Any], list[str] | None]] = [
    ({"tags": [3]}, NO_IDENTITY),
    ({"contact_id": 249}, ["missing 'tags' field"]),
    ({"contact_id": 249, "tags": []}, None),
    ({"contact_id": 249, "tags": [{}]}, ["missing 'tags[0].id' or 'tags[0].name' field"]),
    ({"contact_id": 249, "tags": [3], "source": "api"}, ["unknown field 'source'"]),
]


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _bad_cents(bad: object) -> list[tuple[str, dict[str, Any], list[str]]]:
    invoice = {**INVOICE, "paid": bad, "tax": bad, "items": [{**INVOICE["items"][0], "amount": bad}]}
    cents = "must be an integer number of cents"
    return [
        ("/invoice", invoice, [f"'paid' {cents}", f"'tax' {cents}", f"'items[0].amount' {cents}"]),
        ("/subscription", {**SUBSCRIPTION, "amount": bad}, [f"'amount' {cents}"]),
    ]


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        (
            "/invoice",
            {"contact_id": 4},
            [f"missing '{field}' field" for field in ("id", "amount", "paid", "date_created", "items")],
        ),
        ("/contact", {"first_name": "Joey"}, NO_IDENTITY),
        (
            "/contact",
            {"email": "x@example.com", "status": "gone", "custom_fields": [1], "date_created": "soon"},
            [
                "'status' must be one of active, inactive",
                "'date_created' is not a valid date",
                "'custom_fields' must be an object",
            ],
        ),
        # /contact: "List of TagIds or Array of Tag Objects" (names only on /tags/add and /tags/remove)
        (
            "/contact",
            {"email": "x@example.com", "tags": [3, "New Lead"]},
            ["'tags[1]' must be one of tag ids or tag objects"],
        ),
        ("/contact", b"[]", None),
        *[(path, body, errors) for path in ("/tags/add", "/tags/remove") for body, errors in TAG_REFUSALS],
        (
            "/invoice",
            {**INVOICE, "items": [{"name": "Round Tuit", "amount": 4000}, {"product_id": 1}]},
            ["missing 'items[0].product_id' field", "missing 'items[1].name' field", "missing 'items[1].amount' field"],
        ),
        ("/invoice", {**INVOICE, "items": []}, ["missing 'items' field"]),
        *[case for bad in (45.5, "4500", 4500.0, True) for case in _bad_cents(bad)],
        *[
            ("/invoice", {**INVOICE, "is_refunded": flag}, ["'is_refunded' must be one of 0, 1, false, true"])
            for flag in ("yes", "0", 2, 1.0)
        ],
        *[
            ("/invoice", _without(INVOICE, f), [f"missing '{f}' field"])
            for f in ("id", "amount", "paid", "date_created", "items")
        ],
        *[
            ("/subscription", _without(SUBSCRIPTION, f), [f"missing '{f}' field"])
            for f in ("id", "amount", "product_id", "start_date", "last_bill_date", "billing_cycle", "frequency")
        ],
        ("/subscription", _without(SUBSCRIPTION, "email"), NO_IDENTITY),
        (
            "/subscription",
            {**SUBSCRIPTION, "billing_cycle": "quarter", "frequency": 0},
            ["'frequency' must be an integer >= 1", "'billing_cycle' must be one of year, month, week, day"],
        ),
        ("/subscription", {**SUBSCRIPTION, "quantity": -1}, ["'quantity' must be an integer >= 0"]),
        *[
            (
                "/subscription",
                {**SUBSCRIPTION, "frequency": count, "quantity": count},
                [f"'{f}' must be an integer >= {low}" for f, low in (("frequency", 1), ("quantity", 0))],
            )
            for count in ("3", 3.0, True)
        ],
        # Each body has the fields its table lists (and total_paid, in the invoice example), no other.
        (
            "/contact",
            {"email": "x@example.com", "phone": "555", "tags": [{"id": 3, "colour": "red"}]},
            ["unknown field 'phone'", "unknown field 'tags[0].colour'"],
        ),
        ("/invoice", {**INVOICE, "currency": "usd"}, ["unknown field 'currency'"]),
        (
            "/invoice",
            {**INVOICE, "items": [{**INVOICE["items"][0], "quantity": 2}]},
            ["unknown field 'items[0].quantity'"],
        ),
        ("/subscription", {**SUBSCRIPTION, "status": "active"}, ["unknown field 'status'"]),
        # A tag is removed by id or name: "date" is in the Tag Format of /tags/add only.
        (
            "/tags/remove",
            {"contact_id": 249, "tags": [{"id": 3, "date": "2018-10-02 16:15:00"}]},
            ["unknown field 'tags[0].date'"],
        ),
        # "A date in the future at which the subscription will automatically get canceled"
        (
            "/subscription",
            {**SUBSCRIPTION, "end_date": "2020-01-03 00:00:00"},
            ["'end_date' must be a date in the future"],
        ),
    ],
)
def test_refusals_list_every_problem_and_store_nothing(
    sandbox: SandboxServer, segmetrics: httpx.Client, path: str, body: Any, errors: list[str] | None
) -> None:
    answers(send(segmetrics, "POST", path, body), 400, {"status": "error"} | ({"errors": errors} if errors else {}))
    assert not any(sandbox.state("segmetrics").values())


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/contact", {"contact_id": 249}),
        ("/contact", {"email": "joey@example.com"}),
        ("/contact/", {"email": "a@example.com"}),  # a trailing slash is the same endpoint
        (
            "/contact",
            {
                "email": "x@example.com",
                "tags": [
                    3,
                    {"name": "New Lead"},
                    {"id": 45, "name": "2018 Holiday Special", "date": "2018-11-28 09:25:33"},
                ],
            },
        ),
        *[("/invoice", {**INVOICE, "is_refunded": flag}) for flag in (0, 1, True, False)],
        ("/contact", DOCUMENTED_CONTACT),  # every field the document lists, as its example sends them
        (
            "/invoice",
            {
                **INVOICE,
                "discount": 0,
                "tax": 300,
                "shipping": 0,
                "items": [{**INVOICE["items"][0], "id": "l1", "subscription_id": 9}],
            },
        ),
        (
            "/subscription",
            {
                **SUBSCRIPTION,
                "name": "Pro",
                "quantity": 3,
                "trial_end_date": "2019-12-10 00:00:00",
                "canceled_date": "2019-12-04 00:00:00",
            },
        ),
    ],
)
def test_accepted_imports_answer_success(segmetrics: httpx.Client, path: str, body: dict[str, Any]) -> None:
    answers(segmetrics.post(path, json=body), 200, {"status": "success"})


@pytest.mark.parametrize("path", ["/other/sandbox-integration/contact", "/sandbox-account/other/contact"])
def test_unknown_account_or_integration_is_404(raw: httpx.Client, sandbox: SandboxServer, path: str) -> None:
    url = sandbox.base_urls()["SEGMETRICS_BASE_URL"] + path
    response = raw.post(url, json={"email": "a@example.com"}, headers={"Authorization": "sandbox-segmetrics-key"})
    assert response.status_code == 404
    assert response.json() == {"status": "error", "errors": ["unknown account or integration"]}


def test_unknown_endpoint_is_404(segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/orders", json={}).status_code == 404


def test_subscription_end_date_in_the_future_is_kept(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    ahead = segmetrics.post("/subscription", json={**SUBSCRIPTION, "end_date": "2099-01-03 00:00:00"})
    assert ahead.status_code == 200
    assert sandbox.state("segmetrics")["subscriptions"][0]["end_date"] == "2099-01-03T00:00:00+00:00"


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


def test_tags_by_ids_names_and_objects(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": [3, 45]}).status_code == 200
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": ["New Lead"]}).status_code == 200
    objects = [{"id": 8, "name": "Platinum Customer", "date": "2018-11-28 09:28:42"}]
    assert segmetrics.post("/tags/add", json={"contact_id": 249, "tags": objects}).status_code == 200
    assert segmetrics.post("/tags/remove", json={"contact_id": 249, "tags": [45, "New Lead"]}).status_code == 200
    contact = sandbox.state("segmetrics")["contacts"][0]
    assert sorted(contact["tags"]) == ["3", "8"]


def test_invoice_is_stored_with_its_products(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/invoice", json=INVOICE).json() == {"status": "success"}
    state = sandbox.state("segmetrics")
    assert state["invoices"][0]["amount"] == 4500
    assert {p["id"] for p in state["products"]} == {"1556402307145", "82638"}  # created from the items


def test_subscription_upsert(sandbox: SandboxServer, segmetrics: httpx.Client) -> None:
    assert segmetrics.post("/subscription", json=SUBSCRIPTION).status_code == 200
    canceled = {**SUBSCRIPTION, "canceled_date": "2020-01-03 00:00:00"}
    assert segmetrics.post("/subscription", json=canceled).status_code == 200
    subscriptions = sandbox.state("segmetrics")["subscriptions"]
    assert len(subscriptions) == 1
    assert subscriptions[0]["canceled_date"] == "2020-01-03T00:00:00+00:00"


@pytest.mark.parametrize(("sent", "kept"), [({}, 1), ({"quantity": 0}, 0), ({"quantity": 3}, 3)])
def test_subscription_quantity_defaults_to_1(
    sandbox: SandboxServer, segmetrics: httpx.Client, sent: dict[str, int], kept: int
) -> None:
    assert segmetrics.post("/subscription", json={**SUBSCRIPTION, **sent}).status_code == 200
    assert sandbox.state("segmetrics")["subscriptions"][0]["quantity"] == kept
