"""Reporting-API answers computed from what was imported, in the shapes the document shows.

The numbers are simple but consistent (a contact imported today is a lead today; a paid
invoice is revenue on its date), so an end-to-end test can check a round trip.
Amounts stay in cents, as they were imported.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from devstack.sandbox.vendors.segmetrics_data import SegMetricsData, parse_when

REPORT_TYPES = ("leads", "revenue", "ads", "subscriptions")
SCALES = ("day", "week", "month")
EXTENSIONS = ("events", "tags", "orders", "subscriptions", "lists")
DEFAULT_DAYS = 30
MAX_DAYS = 3_660
PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsocial", "paid_social", "display", "cpm"}
SOCIAL_SOURCES = {"facebook", "fb", "instagram", "twitter", "x", "linkedin", "tiktok", "youtube", "pinterest"}
_RELATIVE = re.compile(r"^([+-]?\d+)\s*(day|week|month|year)s?(\s+ago)?$")


class ReportError(ValueError):
    """A parameter the reporting API would refuse (400)."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    scale: str

    def contains(self, value: Any) -> bool:
        when = parse_when(value)
        return when is not None and self.start <= when.date() <= self.end

    def bucket(self, day: date) -> date:
        if self.scale == "week":
            return day - timedelta(days=day.weekday())
        if self.scale == "month":
            return day.replace(day=1)
        return day

    def labels(self) -> list[date]:
        labels: list[date] = []
        day = self.start
        while day <= self.end:
            label = self.bucket(day)
            if not labels or labels[-1] != label:
                labels.append(label)
            day += timedelta(days=1)
        return labels

    def as_dict(self) -> dict[str, Any]:
        start, end = self.start.isoformat(), self.end.isoformat()
        return {
            "start": start,
            "end": end,
            "duration": None,
            "scale": self.scale,
            "start_date": start,
            "end_date": end,
            "name": "",
        }


def parse_day(value: str | None, today: date, name: str) -> date | None:
    """An ISO date, or a relative one: today, yesterday, "-7 days", "3 weeks ago"."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in ("today", "now"):
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    match = _RELATIVE.match(text)
    if match:
        amount = int(match.group(1)) * (-1 if match.group(3) else 1)
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[match.group(2)]
        return today + timedelta(days=amount * days)
    when = parse_when(value)
    if when is None:
        raise ReportError(f"'{name}' must be an ISO-8601 date or a relative date")
    return when.date()


def period_from(params: dict[str, str], today: date | None = None) -> Period:
    today = today or datetime.now(UTC).date()
    end = parse_day(params.get("end"), today, "end") or today
    start = parse_day(params.get("start"), today, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    scale = params.get("scale") or "day"
    if scale not in SCALES:
        raise ReportError(f"'scale' must be one of {', '.join(SCALES)}")
    if start > end:
        raise ReportError("'start' must not be after 'end'")
    if (end - start).days > MAX_DAYS:
        raise ReportError(f"the date range may span at most {MAX_DAYS} days")
    return Period(start, end, scale)


def extensions_from(params: dict[str, str]) -> set[str]:
    requested = {item.strip() for item in (params.get("extend") or "").split(",") if item.strip()}
    unknown = requested - set(EXTENSIONS)
    if unknown:
        raise ReportError(f"'extend' accepts {', '.join(EXTENSIONS)}; got {', '.join(sorted(unknown))}")
    return requested


def channel_of(contact: dict[str, Any]) -> str:
    attribution = contact.get("attribution", {})
    medium = str(attribution.get("utm_medium") or "").lower()
    source = str(attribution.get("utm_source") or "").lower()
    if medium in PAID_MEDIUMS or attribution.get("ad_id"):
        return "paid"
    if medium == "social" or source in SOCIAL_SOURCES:
        return "social"
    if medium == "email" or source == "email":
        return "email"
    if attribution.get("referring_url"):
        return "referral"
    return "direct"


def _field(name: str, key: str, kind: str = "NUMBER", aggregation: str | None = "SUM") -> dict[str, Any]:
    return {"name": name, "key": key, "type": kind, "aggregation": aggregation}


def _round(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float:
    return numerator * scale / denominator if denominator else 0


def _series(period: Period, items: Iterable[tuple[Any, float]]) -> list[float | int]:
    totals: dict[date, float] = defaultdict(float)
    for when, amount in items:
        parsed = parse_when(when)
        if parsed is not None:
            totals[period.bucket(parsed.date())] += amount
    return [_round(totals.get(label, 0)) for label in period.labels()]


def _invoice_revenue(invoice: dict[str, Any]) -> float:
    return 0 if invoice["is_refunded"] else float(invoice["paid"] or 0)


def monthly_amount(subscription: dict[str, Any]) -> float:
    """Normalise a subscription's amount to a month, for MRR."""
    per_cycle = float(subscription["amount"] or 0) / max(subscription["frequency"] or 1, 1)
    months = {"year": 1 / 12, "month": 1.0, "week": 52 / 12, "day": 365 / 12}[subscription["billing_cycle"]]
    return per_cycle * months


def is_active(subscription: dict[str, Any], on: date) -> bool:
    def before(value: Any) -> bool:
        when = parse_when(value)
        return when is not None and when.date() <= on

    return before(subscription["start_date"]) and not any(
        before(subscription[key]) for key in ("canceled_date", "end_date")
    )


# --- saved reports ------------------------------------------------------------------

Table = tuple[list[dict[str, Any]], str, list[float | int], dict[str, Any]]  # kpis, graph label, series, table


def report(data: SegMetricsData, report_type: str, report_id: str | None, period: Period) -> dict[str, Any]:
    kpis, label, series, table = BUILDERS[report_type](data, period)
    title = {"leads": "New Lead Report", "revenue": "Revenue Report", "ads": "Ads Report"}.get(
        report_type, "Subscriptions Report"
    )
    return {
        "report": {
            "id": report_id,
            "name": f"{title} #{report_id}" if report_id else title,
            "type": report_type,
            "date_range": period.as_dict(),
        },
        "kpis": kpis,
        "graph": {
            "labels": [day.isoformat() for day in period.labels()],
            "datasets": [{"label": label, "data": series}],
        },
        "table": table,
    }


def report_contacts(data: SegMetricsData, report_type: str, period: Period) -> list[dict[str, Any]]:
    """The contacts a report is about, oldest first."""
    if report_type == "revenue":
        keys = {inv["contact_key"] for inv in data.invoices.values() if period.contains(inv["date_created"])}
        contacts = [c for c in data.contacts.values() if c["key"] in keys]
    elif report_type == "subscriptions":
        keys = {
            sub["contact_key"]
            for sub in data.subscriptions.values()
            if period.contains(sub["start_date"]) or is_active(sub, period.end)
        }
        contacts = [c for c in data.contacts.values() if c["key"] in keys]
    else:
        contacts = [c for c in data.contacts.values() if period.contains(c["date_created"])]
        if report_type == "ads":
            contacts = [c for c in contacts if channel_of(c) == "paid"]
    return sorted(contacts, key=lambda c: (c["date_created"], int(c["key"][1:])))


def _fields(specs: str) -> list[dict[str, Any]]:
    """Fields from "Name:key[:TYPE[:AGGREGATION]], ..."; by default a number, summed."""
    return [_field(*spec.strip().split(":")) for spec in specs.split(",")]


def _kpis(fields: list[dict[str, Any]], values: Iterable[float]) -> list[dict[str, Any]]:
    return [{**field, "value": _round(value)} for field, value in zip(fields, values, strict=True)]


def _table(name: str, key: str, fields: list[dict[str, Any]], groups: dict[str, list[float]]) -> dict[str, Any]:
    """One row per group, sorted by its name, with a value per field."""
    rows = [
        {key: group, **{field["key"]: _round(value) for field, value in zip(fields, values, strict=True)}}
        for group, values in sorted(groups.items())
    ]
    return {"fields": [_field(name, key, "STRING", None), *fields], "rows": rows}


def _leads(data: SegMetricsData, period: Period) -> Table:
    leads = [c for c in data.contacts.values() if period.contains(c["date_created"])]
    revenue_by_contact: dict[str, float] = defaultdict(float)
    for invoice in data.invoices.values():
        revenue_by_contact[invoice["contact_key"]] += _invoice_revenue(invoice)
    fields = _fields(
        "Leads:leads, Customers:numOfCustomers, Conversion Rate:conversionRate:PERCENT:AVG,"
        " Revenue:revenue:CURRENCY, Lead Value:leadValue:CURRENCY:AVG"
    )

    def metrics(group: list[dict[str, Any]]) -> list[float]:
        customers = sum(1 for c in group if revenue_by_contact.get(c["key"], 0) > 0)
        revenue = sum(revenue_by_contact.get(c["key"], 0) for c in group)
        return [len(group), customers, _ratio(customers, len(group), 100), revenue, _ratio(revenue, len(group))]

    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for contact in leads:
        by_channel[channel_of(contact)].append(contact)
    groups = {channel: metrics(group) for channel, group in by_channel.items()}
    series = _series(period, ((c["date_created"], 1) for c in leads))
    return _kpis(fields, metrics(leads)), "Leads", series, _table("Channel", "channel", fields, groups)


def _revenue(data: SegMetricsData, period: Period) -> Table:
    invoices = [inv for inv in data.invoices.values() if period.contains(inv["date_created"])]
    revenue = sum(_invoice_revenue(inv) for inv in invoices)
    customers = len({inv["contact_key"] for inv in invoices if _invoice_revenue(inv) > 0})
    fields = _fields(
        "Revenue:revenue:CURRENCY, Orders:numOfOrders, Customers:numOfCustomers,"
        " Average Order Value:avgOrderValue:CURRENCY:AVG, Refunds:numOfRefunds"
    )
    refunds = sum(1 for inv in invoices if inv["is_refunded"])
    kpis = _kpis(fields, [revenue, len(invoices), customers, _ratio(revenue, len(invoices)), refunds])
    by_product: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for invoice in invoices:
        for item in invoice["items"]:
            product = data.products.get(str(item["product_id"])) or {}
            totals = by_product[product.get("name") or item["name"]]
            totals[0] += 1
            totals[1] += 0 if invoice["is_refunded"] else float(item["total_paid"] or item["amount"] or 0)
    series = _series(period, ((inv["date_created"], _invoice_revenue(inv)) for inv in invoices))
    return kpis, "Revenue", series, _table("Product", "product", _fields("Orders:orders, Revenue:revenue"), by_product)


def _subscriptions(data: SegMetricsData, period: Period) -> Table:
    subscriptions = data.subscriptions.values()
    active = [s for s in subscriptions if is_active(s, period.end)]
    new = [s for s in subscriptions if period.contains(s["start_date"])]
    canceled = [s for s in subscriptions if s["canceled_date"] and period.contains(s["canceled_date"])]
    fields = _fields(
        "Active Subscriptions:activeSubscriptions, New Subscriptions:newSubscriptions,"
        " Cancellations:canceledSubscriptions, MRR:mrr:CURRENCY"
    )
    kpis = _kpis(fields, [len(active), len(new), len(canceled), sum(monthly_amount(s) for s in active)])
    active_ids, new_ids, canceled_ids = ({s["id"] for s in group} for group in (active, new, canceled))
    by_product: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for sub in subscriptions:
        product = data.products.get(str(sub["product_id"])) or {}
        row = by_product[product.get("name") or sub["name"] or str(sub["product_id"])]
        row[0] += sub["id"] in active_ids
        row[1] += sub["id"] in new_ids
        row[2] += sub["id"] in canceled_ids
        row[3] += monthly_amount(sub) if sub["id"] in active_ids else 0
    table = _table(
        "Product", "product", _fields("Active:active, New:new, Canceled:canceled, MRR:mrr:CURRENCY"), by_product
    )
    return kpis, "New Subscriptions", _series(period, ((s["start_date"], 1) for s in new)), table


def _ads(data: SegMetricsData, period: Period) -> Table:
    rows_in = [row for row in data.ad_performance if period.contains(row["date"])]
    spend = sum(float(row["spend"] or 0) for row in rows_in)
    clicks = sum(row["clicks"] for row in rows_in)
    impressions = sum(row["impressions"] for row in rows_in)
    fields = _fields("Ad Spend:adSpend:CURRENCY, Clicks:clicks, Impressions:impressions")
    averages = _fields("CTR:ctr:PERCENT:AVG, Cost per Click:cpc:CURRENCY:AVG")
    kpis = _kpis(
        [*fields, *averages], [spend, clicks, impressions, _ratio(clicks, impressions, 100), _ratio(spend, clicks)]
    )
    by_ad: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for row in rows_in:
        ad = data.ads.get(str(row["ad"])) or {}
        totals = by_ad[ad.get("name") or str(row["ad"])]
        totals[0] += float(row["spend"] or 0)
        totals[1] += row["clicks"]
        totals[2] += row["impressions"]
    series = _series(period, ((row["date"], float(row["spend"] or 0)) for row in rows_in))
    return kpis, "Ad Spend", series, _table("Ad", "ad", fields, by_ad)


BUILDERS: dict[str, Callable[[SegMetricsData, Period], Table]] = {
    "leads": _leads,
    "revenue": _revenue,
    "subscriptions": _subscriptions,
    "ads": _ads,
}


# --- contacts -------------------------------------------------------------------------


def contact_view(data: SegMetricsData, contact: dict[str, Any], extend: set[str]) -> dict[str, Any]:
    """A contact as the reporting API returns it; related data only when asked for with `extend`."""
    shown = ("contact_id", "first_name", "last_name", "email", "status", "date_created", "last_updated")
    view: dict[str, Any] = {**{key: contact[key] for key in shown}, "custom_fields": dict(contact["custom_fields"])}
    if "tags" in extend:
        view["tags"] = [{**tag, "contact_id": contact["contact_id"]} for tag in contact["tags"].values()]
    if "orders" in extend:
        invoices = [inv for inv in data.invoices.values() if inv["contact_key"] == contact["key"]]
        view["orders"] = [_order(inv, contact) for inv in sorted(invoices, key=lambda inv: inv["date_created"])]
    if "subscriptions" in extend:
        subs = [sub for sub in data.subscriptions.values() if sub["contact_key"] == contact["key"]]
        view["subscriptions"] = [_subscription(sub, contact) for sub in subs]
    # Page views come from the JS snippet and lists from the app, neither of which the sandbox emulates.
    return view | {key: [] for key in ("events", "lists") if key in extend}


def _order(invoice: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
    paid = float(invoice["paid"] or 0)
    total = float(invoice["amount"] or 0)
    subtotal = total - invoice["tax"] - invoice["shipping"] + invoice["discount"]
    items = []
    for item in invoice["items"]:
        items.append(
            {
                "contact_id": contact["contact_id"],
                "order_item_id": item["id"],
                "product_id": item["product_id"],
                "order_id": invoice["id"],
                "subscription_id": item["subscription_id"],
                "product_name": item["name"],
                "order_type": "subscription" if item["subscription_id"] else "product",
                "is_paid": paid >= total and paid > 0,
                "is_refunded": invoice["is_refunded"],
                "amount": item["amount"],
                "total_paid": item["total_paid"] if item["total_paid"] is not None else item["amount"],
                "total_due": item["amount"],
                "date_created": invoice["date_created"],
                "imported_at": invoice["imported_at"],
                "last_imported_at": invoice["imported_at"],
            }
        )
    return {
        "order_id": invoice["id"],
        "contact_id": contact["contact_id"],
        "is_paid": paid >= total and paid > 0,
        "is_refunded": invoice["is_refunded"],
        "subtotal": _round(subtotal),
        "total_tax": invoice["tax"],
        "total_shipping": invoice["shipping"],
        "total_discount": invoice["discount"],
        "total": invoice["amount"],
        "total_paid": invoice["paid"],
        "date_created": invoice["date_created"],
        "line_items": items,
    }


def _subscription(sub: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    status = "active" if is_active(sub, today) else "canceled"
    trial_end = parse_when(sub["trial_end_date"])
    if status == "active" and trial_end is not None and trial_end.date() > today:
        status = "trialing"
    copied = ("amount", "quantity", "billing_cycle", "frequency", "start_date", "last_bill_date", "trial_end_date")
    return {
        "subscription_id": sub["id"],
        "contact_id": contact["contact_id"],
        "product_id": sub["product_id"],
        "product_name": sub["name"],
        "status": status,
        **{key: sub[key] for key in (*copied, "end_date", "canceled_date")},
    }


def page_of(items: list[Any], params: dict[str, str], path: str) -> tuple[list[Any], dict[str, Any]]:
    """Laravel-style pagination, as in the document's "meta" block."""
    try:
        limit = int(params.get("limit") or 20)
        page = int(params.get("page") or 1)
    except ValueError as exc:
        raise ReportError("'limit' and 'page' must be integers") from exc
    if not 1 <= limit <= 100:
        raise ReportError("'limit' must be between 1 and 100")
    if page < 1:
        raise ReportError("'page' must be >= 1")
    total = len(items)
    chunk = items[(page - 1) * limit : page * limit]
    first = (page - 1) * limit + 1
    meta = {
        "current_page": page,
        "from": first if chunk else None,
        "last_page": max(1, math.ceil(total / limit)),
        "path": path,
        "per_page": limit,
        "to": first + len(chunk) - 1 if chunk else None,
        "total": total,
    }
    return chunk, meta
