"""Stripe amounts reach SegMetrics in cents, whatever the currency's decimals.

Real Stripe payloads (tests/fixtures) are mapped and delivered: the fixtures' amounts
are left as they are and only the currency changes, so the same Stripe integers mean
euros-and-cents, whole yen or thousandths of a dinar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.providers.conftest import STORIES, VERSIONS, context, stripe_event
from webhook_bridge.actions import Action
from webhook_bridge.currency import to_cents
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.vendors.segmetrics import adapter as segmetrics_adapter
from webhook_bridge.vendors.segmetrics.client import SegMetricsClient

from .conftest import API_KEY, answer, json_body

BASE = "https://import.segmetrics.io/api/v1/acct1/integ1"

# The fixture invoice in Stripe's integers: lines 8700 + 500, discount 1840, tax 1546, total 8906.
# SegMetrics' cents for each, per currency: € 89.06, ¥8,906, KWD 8.906.
EXPECTED = {
    "usd": {"amount": 8906, "paid": 8906, "items": [8700, 500], "discount": 1840, "tax": 1546},
    "jpy": {"amount": 890600, "paid": 890600, "items": [870000, 50000], "discount": 184000, "tax": 154600},
    # ÷ 10, half away from zero: 890.6 → 891, 154.6 → 155
    "kwd": {"amount": 891, "paid": 891, "items": [870, 50], "discount": 184, "tax": 155},
}


@pytest.fixture
def client() -> SegMetricsClient:
    return SegMetricsClient("acct1", "integ1", API_KEY)


def in_currency(payload: dict[str, Any], currency: str) -> dict[str, Any]:
    obj = payload["data"]["object"]
    obj["currency"] = currency
    for item in (obj.get("items") or {}).get("data", []):
        item["price"]["currency"] = currency
    return payload


def delivered(http_mock: Any, client: SegMetricsClient, action: Action, route: str) -> dict[str, Any]:
    answer(http_mock, 200, json={"status": "success"})
    segmetrics_adapter.deliver(action, client)
    bodies = [json_body(call.request) for call in http_mock.calls if str(call.request.url) == f"{BASE}{route}"]
    assert len(bodies) == 1
    body: dict[str, Any] = bodies[0]
    return body


def amounts(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": invoice["amount"],
        "paid": invoice["paid"],
        "items": [item["amount"] for item in invoice["items"]],
        "discount": invoice["discount"],
        "tax": invoice["tax"],
    }


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("currency", sorted(EXPECTED))
def test_invoice_amounts_are_cents(http_mock, client, version: str, currency: str) -> None:
    ctx = context()
    map_stripe_event(stripe_event(version, "customer.created"), ctx)
    [paid, record] = map_stripe_event(in_currency(stripe_event(version, "invoice.paid"), currency), ctx)

    invoice = delivered(http_mock, client, record, "/invoice")

    assert amounts(invoice) == EXPECTED[currency]
    # Elsewhere the amount stays as Stripe sent it, with its currency beside it.
    assert record.invoice is not None and record.invoice.amount == 8906
    assert paid.event is not None
    assert paid.event.properties == {
        "invoice_id": STORIES[version].invoice,
        "amount_paid": 8906,
        "currency": currency,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_yen_refund_lowers_paid_in_cents(http_mock, client, version: str) -> None:
    ctx = context()
    map_stripe_event(stripe_event(version, "customer.created"), ctx)
    map_stripe_event(in_currency(stripe_event(version, "invoice.paid"), "jpy"), ctx)
    if version != "2024-06-20":
        map_stripe_event(stripe_event(version, "invoice_payment.paid"), ctx)
    refund = in_currency(stripe_event(version, "charge.refunded"), "jpy")
    refund["data"]["object"].update(amount_refunded=1000, refunded=False)  # ¥1,000 of ¥8,906
    [_, action] = map_stripe_event(refund, ctx)  # the track, then the invoice record

    invoice = delivered(http_mock, client, action, "/invoice")

    assert (invoice["amount"], invoice["paid"], invoice["is_refunded"]) == (890600, 790600, 0)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("currency", "cents"), [("usd", 9200), ("jpy", 920000), ("kwd", 920)])
def test_subscription_amount_is_cents(http_mock, client, version: str, currency: str, cents: int) -> None:
    ctx = context()
    map_stripe_event(stripe_event(version, "customer.created"), ctx)
    [action] = map_stripe_event(in_currency(stripe_event(version, "customer.subscription.updated"), currency), ctx)

    subscription = delivered(http_mock, client, action, "/subscription")

    assert subscription["amount"] == cents  # 3 x 2900 + 500 in Stripe's integers
    assert action.event is not None
    assert (action.event.properties["amount"], action.event.properties["currency"]) == (9200, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "cents"),
    [
        (4500, "jpy", 450000),  # ¥4,500
        (4500, "JPY", 450000),
        (5120, "kwd", 512),  # KWD 5.120
        (5125, "bhd", 513),  # half away from zero
        (5124, "omr", 512),
        (-5125, "tnd", -513),  # a credit rounds like a charge
        (4500, "usd", 4500),
        (4500, "isk", 4500),  # two-decimal in Stripe's API, despite whole-krona charges
        (4500, None, 4500),
    ],
)
def test_to_cents(amount: int, currency: str | None, cents: int) -> None:
    assert to_cents(amount, currency) == cents


def test_subscription_end_date_is_sent_only_while_ahead(client) -> None:
    [action] = map_stripe_event(scheduled_cancellation(cancel_at=4_102_444_800), context())  # 2100-01-01
    assert action.subscription is not None
    before = datetime(2099, 12, 31, 23, 54, tzinfo=UTC)
    after = datetime(2099, 12, 31, 23, 56, tzinfo=UTC)  # within the 5 minutes' margin

    ahead = segmetrics_adapter.subscription_request(action.subscription, action.person, now=before).to_wire()
    passed = segmetrics_adapter.subscription_request(action.subscription, action.person, now=after).to_wire()

    assert ahead["end_date"] == "2100-01-01 00:00:00"
    assert "end_date" not in passed and "canceled_date" not in passed


def scheduled_cancellation(**fields: Any) -> dict[str, Any]:
    payload = stripe_event("2025-09-30.clover", "customer.subscription.updated")
    payload["data"]["object"].update(fields)
    return payload
