"""A later event without UTMs leaves the attribution every vendor already holds.

The bridge's own mapping and adapters, against the vendor sandbox: a Typeform response
with UTM hidden fields, then a later response of the same person without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.sandbox import SandboxServer
from tests.providers.conftest import context, typeform_payload
from webhook_bridge.actions import Action, Attribution
from webhook_bridge.providers.typeform import map_typeform_event
from webhook_bridge.vendors import registry
from webhook_bridge.vendors.catalog import vendors

REFERRER = "https://blog.example/pricing"
FIRST = {"utm_source": "newsletter", "utm_campaign": "otoño-2025", "referring_url": REFERRER}
ATTRIBUTION_NAMES = set(Attribution.model_fields)


@pytest.fixture
def bridge_env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in sandbox.as_env().items():
        monkeypatch.setenv(name, value)
    yield


def response(event_id: str, hidden: dict[str, str]) -> Action:
    payload = typeform_payload("form_response")
    payload["event_id"] = event_id
    payload["form_response"]["hidden"] = hidden
    [action] = map_typeform_event(payload, context())
    return action


def deliver(action: Action) -> None:
    for vendor in vendors():
        client = registry.build_client(vendor)
        registry.adapter(vendor).deliver(action, client, idempotency_key=f"{vendor.value}:{action.id}")


def held(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    """What each vendor holds for the person: SegMetrics' contact fields, the others' attributes."""
    [segmetrics] = sandbox.state("segmetrics")["contacts"]
    [convertloop] = sandbox.state("convertloop")["people"]
    [loops] = sandbox.state("loops")["contacts"]
    [customerio] = sandbox.state("customerio")["customers"]
    return {
        "segmetrics": segmetrics["attribution"],
        "convertloop": convertloop["attributes"],
        "loops": loops,
        "customerio": customerio["attributes"],
    }


def test_a_later_event_without_utms_keeps_them(sandbox: SandboxServer, bridge_env: None) -> None:
    deliver(response("01FIRST", {"utm_source": "newsletter", "utm_campaign": "otoño-2025", "referrer": REFERRER}))
    seen = {vendor.value: len(sandbox.requests(vendor.value)) for vendor in vendors()}
    deliver(response("02LATER", {"user_id": "u_4812"}))

    for vendor, fields in held(sandbox).items():
        assert {key: fields.get(key) for key in FIRST} == FIRST, vendor
    # The later requests named no attribution field at all, not even as null.
    for vendor, count in seen.items():
        later = sandbox.requests(vendor)[count:]
        assert later, vendor
        for record in later:
            body = record["body"] or {}
            assert not set(body) & ATTRIBUTION_NAMES, vendor
            assert not set(body.get("person") or {}) & ATTRIBUTION_NAMES, vendor
