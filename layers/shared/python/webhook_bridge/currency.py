"""Stripe's currency facts, and its amounts in the cents that SegMetrics expects.

Stripe gives every amount as an integer in the currency's *smallest unit*: cents for
most currencies, but whole units for its zero-decimal currencies (¥4,500 is ``4500``)
and thousandths for its three-decimal currencies (KWD 5.120 is ``5120``). SegMetrics
wants every amount "in Cents", i.e. hundredths of the currency's major unit: ¥4,500 is
``450000`` and KWD 5.120 is ``512``.

The lists are Stripe's published ones (its "Supported currencies" page). Stripe's special
cases ISK, HUF and TWD are two-decimal in its API (an amount of ``100`` is one unit) and
so need no conversion, like every currency not listed here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def to_cents(amount: int, currency: str | None) -> int:
    """A Stripe amount (smallest unit of ``currency``) as integer hundredths of the major unit.

    Three-decimal amounts are divided by ten. Stripe asks for them to end in 0, so this is
    exact for charges; a line amount or tax that Stripe computed to the thousandth is
    rounded half away from zero (5.125 KWD → 513 cents, -5.125 → -513), the usual rule
    for money and symmetric for credits. An unknown or missing currency is taken as
    two-decimal, which is what every other Stripe currency is.
    """
    code = (currency or "").strip().lower()
    if code in ZERO_DECIMAL:
        return amount * 100
    if code in THREE_DECIMAL:
        return int((Decimal(amount) / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return amount
