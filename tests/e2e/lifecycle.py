"""A subscriber's first months as Stripe sends them, for tests through the dev stack.

The events are the fixtures of the current API version with the subscriber's own ids and
email, so several subscribers can run through one stack at once. ``created`` stays as
Stripe stamped it: tests shuffle the order of *arrival*, not of history.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "2025-09-30.clover"
_FIXTURE_IDS = {
    "customer": "cus_NsFdx4y0VO9Vps",
    "subscription": "sub_1SEoMpiUx6lssKuGCp19AUDz",
    "invoice": "in_1SEoygPrVj2yVUuGytpeizes",
}
_FIXTURE_EMAIL = re.compile(re.escape("zoe.nunez+billing@example.com"), re.IGNORECASE)

# (fixture, overrides of the object): created → trialing → active → past_due → canceled.
STEPS: list[tuple[str, dict[str, Any], int | None]] = [
    ("customer.created", {}, None),
    ("customer.updated", {}, None),  # renames the customer
    ("checkout.session.completed", {}, None),
    ("customer.subscription.created", {}, None),
    ("customer.subscription.updated", {}, None),  # active after the trial
    ("invoice.paid", {}, None),
    ("customer.subscription.updated", {"status": "past_due"}, 1_762_900_000),
    ("customer.subscription.deleted", {}, None),
]
FINAL_STATUS = "canceled"
FINAL_NAME = ("Zoë", "Ñúñez-García")  # customer.updated's; checkout and invoice carry the old one
TRACKED = {
    "checkout_completed": 1,
    "subscription_created": 1,
    "subscription_updated": 2,
    "invoice_paid": 1,
    "subscription_canceled": 1,
}


@dataclass
class Subscriber:
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def email(self) -> str:
        return f"zoe.{self.tag}@example.com"

    def ids(self) -> dict[str, str]:
        return {kind: f"{fixture_id[:4]}{self.tag}" for kind, fixture_id in _FIXTURE_IDS.items()}

    def events(self) -> list[dict[str, Any]]:
        return [self.event(name, overrides, created) for name, overrides, created in STEPS]

    def event(self, name: str, overrides: dict[str, Any] | None = None, created: int | None = None) -> dict[str, Any]:
        """The fixture ``name`` as this subscriber's, under a new event id."""
        text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
        for kind, fixture_id in _FIXTURE_IDS.items():
            text = text.replace(fixture_id, self.ids()[kind])
        # Capitalised as Stripe may send it: vendors must still see one person.
        text = _FIXTURE_EMAIL.sub(self.email.replace("zoe", "Zoe"), text)
        event = json.loads(text)
        event["id"] = f"evt_{uuid.uuid4().hex[:24]}"
        event["data"]["object"].update(overrides or {})
        if created is not None:
            event["created"] = created
        return event


@dataclass(frozen=True)
class Holding:
    """What one vendor holds about one subscriber, in the terms the tests compare."""

    profiles: int  # contacts under the email or the Stripe customer id: must be 1
    status: str | None  # subscription_status on the contact
    name: tuple[str | None, str | None]
    tracked: dict[str, int]  # event name → how many
    subscription_canceled: bool | None = None  # SegMetrics' subscription record, where there is one


def expected_holding(vendor: str) -> Holding:
    return Holding(
        profiles=1,
        status=FINAL_STATUS,
        name=FINAL_NAME,
        tracked=TRACKED if vendor != "segmetrics" else {},  # SegMetrics takes records, not events
        subscription_canceled=True if vendor == "segmetrics" else None,
    )


def holding(state: dict[str, Any], vendor: str, subscriber: Subscriber) -> Holding:
    """``state``: the vendor sandbox's ``state(vendor)``."""
    email, customer = subscriber.email, subscriber.ids()["customer"]
    if vendor == "loops":
        contacts = [c for c in state["contacts"] if c["email"] == email or c.get("stripe_customer_id") == customer]
        names = [(c.get("firstName"), c.get("lastName")) for c in contacts]
        statuses = [c.get("subscription_status") for c in contacts]
        events = [e["eventName"] for e in state["events"] if e["email"] == email]
    elif vendor == "customerio":
        contacts = [c for c in state["customers"] if c["id"] in (email, customer)]
        names = [(c["attributes"].get("first_name"), c["attributes"].get("last_name")) for c in contacts]
        statuses = [c["attributes"].get("subscription_status") for c in contacts]
        events = [e["name"] for e in state["events"] if e["customer_id"] == email]
    elif vendor == "convertloop":
        contacts = [p for p in state["people"] if p["email"] == email or p.get("user_id") == customer]
        names = [(p["attributes"].get("first_name"), p["attributes"].get("last_name")) for p in contacts]
        statuses = [p["attributes"].get("subscription_status") for p in contacts]
        ids = {p["id"] for p in contacts}
        events = [e["name"] for e in state["event_logs"] if e["person_id"] in ids]
    else:
        contacts = [c for c in state["contacts"] if c["email"] == email or c.get("contact_id") == customer]
        names = [(c.get("first_name"), c.get("last_name")) for c in contacts]
        statuses = [c["custom_fields"].get("subscription_status") for c in contacts]
        events = []
        records = [s for s in state["subscriptions"] if s["id"] == subscriber.ids()["subscription"]]
        canceled = len(records) == 1 and records[0].get("canceled_date") is not None
    return Holding(
        profiles=len(contacts),
        status=statuses[0] if len(statuses) == 1 else None,
        name=names[0] if len(names) == 1 else (None, None),
        tracked={name: events.count(name) for name in sorted(set(events))},
        subscription_canceled=canceled if vendor == "segmetrics" else None,
    )
