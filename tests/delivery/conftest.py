"""The delivery tests' shared fixtures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from webhook_bridge.actions import Action, ActionKind, Person, VendorMessage
from webhook_bridge.observability import metrics
from webhook_bridge.vendors.catalog import Vendor


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the metrics added, in order."""
    names: list[str] = []

    def add_metric(name: str, *args: Any, **kwargs: Any) -> None:
        names.append(name)

    monkeypatch.setattr(metrics, "add_metric", add_metric)
    return names


def stripe_message(
    event_id: str,
    event_type: str,
    kind: ActionKind,
    occurred_at: datetime,
    person: Person,
    *,
    vendor: Vendor | str = "loops",
    **fields: Any,
) -> VendorMessage:
    """The message for a vendor of the first action mapped from a Stripe event."""
    action = Action(
        id=f"stripe:{event_id}:0",
        kind=kind,
        source="stripe",
        source_event_id=event_id,
        source_event_type=event_type,
        occurred_at=occurred_at,
        person=person,
        **fields,
    )
    return VendorMessage(vendor=Vendor(vendor), action=action)
