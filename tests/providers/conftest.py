"""Real-shaped payloads and what the tests know about them, per Stripe API version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest

from webhook_bridge.mapping_config import MappingConfig, MappingContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OLD = "2024-06-20"  # invoice.subscription, line price, charge.invoice, subscription-level periods
CURRENT = "2025-09-30.clover"  # invoice.parent, line pricing, no charge.invoice, item-level periods
VERSIONS = (OLD, CURRENT)

# The fixtures tell one story per version: Zoë signs up, checks out with a 14-day trial of
# 3 Pro seats (€29) + priority support (€5), pays the first invoice with a 20 % coupon and
# 21 % VAT, fails the next renewal, is refunded, and cancels.
EMAIL = "zoe.nunez+billing@example.com"  # sent as "Zoe.Nunez+billing@Example.COM"
SUBTOTAL = 2900 * 3 + 500
DISCOUNT = 1740 + 100  # 20 % of each line
TAX = 1462 + 84  # 21 % of each discounted line, rounded per line
TOTAL = SUBTOTAL - DISCOUNT + TAX


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@dataclass(frozen=True)
class Story:
    version: str
    customer: str
    subscription: str
    invoice: str
    failed_invoice: str
    lines: tuple[str, str]
    pro_product: str
    addon_product: str
    payment_intent: str
    signed_up: int  # customer.created
    trial_start: int
    trial_end: int
    paid_at: int
    renewal: int
    canceled_at: int


STORIES = {
    OLD: Story(
        version=OLD,
        customer="cus_GCK7nLPxJOwiR9",
        subscription="sub_1Pbm0o2WaD3F9MmVa8Milx1x",
        invoice="in_1PbmY6AfIR2x4zTD2LUkkhxe",
        failed_invoice="in_1PbmdPdBX558RtQ9uCg0YgO2",
        lines=("il_axjEUAf8WW0LoM", "il_Myj5fLyUnzkqHm"),
        pro_product="prod_fXCuFeq4Ae6ZGg",
        addon_product="prod_zl0ig3rJZy2AXo",
        payment_intent="pi_1PbmshanUZxzTrJW93AsKPuV",
        signed_up=1727337601,
        trial_start=1727337661,
        trial_end=1728547261,
        paid_at=1728550873,
        renewal=1731225661,
        canceled_at=1731657721,
    ),
    CURRENT: Story(
        version=CURRENT,
        customer="cus_NsFdx4y0VO9Vps",
        subscription="sub_1SEoMpiUx6lssKuGCp19AUDz",
        invoice="in_1SEoygPrVj2yVUuGytpeizes",
        failed_invoice="in_1SEoAxkODHPGtq3SLgphB0Pu",
        lines=("il_f24ZrhZHLyBvD6", "il_5tJMEQJTD4ULZP"),
        pro_product="prod_MbZ2gmEXMlSQzN",
        addon_product="prod_gBpxa3jA0pC3T0",
        payment_intent="pi_1SEoGa5tE6w6uPn1Z3gwQgqz",
        signed_up=1760431201,
        trial_start=1760431261,
        trial_end=1761640861,
        paid_at=1761644473,
        renewal=1764319261,
        canceled_at=1764751321,
    ),
}


# What makes a charge's invoice known to its refund or dispute: before basil invoice.paid alone
# (it names its payment intent); from basil on invoice.paid and invoice_payment.paid, in either order.
INVOICE_LINKS = [
    (OLD, ("invoice.paid",)),
    *((CURRENT, order) for order in permutations(("invoice.paid", "invoice_payment.paid"))),
]
INVOICE_LINK_IDS = [f"{version}:{'+'.join(order)}" for version, order in INVOICE_LINKS]


def stripe_event(version: str, event_type: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / "stripe" / version / f"{event_type}.json").read_text())
    return payload


def typeform_payload(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / "typeform" / f"{name}.json").read_text())
    return payload


def context(config: dict[str, Any] | None = None) -> MappingContext:
    return MappingContext.in_memory(MappingConfig.from_json(json.dumps(config)) if config else None)


@pytest.fixture(params=VERSIONS)
def story(request: pytest.FixtureRequest) -> Story:
    return STORIES[request.param]


@pytest.fixture
def ctx() -> MappingContext:
    return context()


@pytest.fixture
def hidden_email_ctx() -> MappingContext:
    """Forms opted in to identifying respondents by the hidden field ``email``."""
    return context({"typeform": {"default": {"hidden_email": True}}})
