"""Secret rotation as operators do it: old and new secret configured together, in either order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.support.signing import signature
from tests.receiver.test_never_5xx import RunAlways
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.receiver.providers import STRIPE, TYPEFORM, ProviderSpec
from webhook_bridge.signatures import SignatureError
from webhook_bridge.vendors.catalog import vendors

BODIES = {
    "stripe": json.dumps({"id": "evt_rot", "type": "payout.paid", "created": 1}).encode(),
    "typeform": json.dumps({"event_id": "tf_rot", "event_type": "form_response"}).encode(),
}


class NothingToMap:
    def map(self, payload: dict[str, Any]) -> list[Any]:
        return []

    def vendors_for(self, action: Any) -> None:
        return None


def receiver(spec: ProviderSpec) -> Receiver:
    return Receiver(
        spec=spec,
        mapping=NothingToMap(),
        enabled_vendors=tuple(vendors()),
        publish=lambda messages: len(messages),
        dedupe=RunAlways(),
        max_body_bytes=4096,
    )


@pytest.mark.parametrize("spec", [STRIPE, TYPEFORM], ids=["stripe", "typeform"])
@pytest.mark.parametrize("configured", ["old_secret,new_secret", "new_secret,old_secret", " old_secret , new_secret "])
@pytest.mark.parametrize("signer", ["old_secret", "new_secret"])
def test_either_configured_secret_verifies(monkeypatch, spec, configured, signer):
    monkeypatch.setenv(spec.secret_name, configured)
    body = BODIES[spec.name]
    assert receiver(spec).handle(body, signature(spec.name, body, signer))["status"] == "ignored"


@pytest.mark.parametrize("spec", [STRIPE, TYPEFORM], ids=["stripe", "typeform"])
@pytest.mark.parametrize("configured", ["old_secret,new_secret", "new_secret,old_secret"])
def test_a_retired_secret_is_refused(monkeypatch, spec, configured):
    monkeypatch.setenv(spec.secret_name, configured)
    body = BODIES[spec.name]
    with pytest.raises(SignatureError):
        receiver(spec).handle(body, signature(spec.name, body, "retired_secret"))


@pytest.mark.parametrize("spec", [STRIPE, TYPEFORM], ids=["stripe", "typeform"])
def test_a_secret_list_is_not_itself_a_secret(monkeypatch, spec):
    monkeypatch.setenv(spec.secret_name, "old_secret,new_secret")
    body = BODIES[spec.name]
    with pytest.raises(SignatureError):
        receiver(spec).handle(body, signature(spec.name, body, "old_secret,new_secret"))
