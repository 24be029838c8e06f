"""Payloads our fixtures do not show, through the real receivers, moto's SQS and every vendor's delivery."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.integration.conftest import ROOT, Bridge
from webhook_bridge.vendors.catalog import Vendor, specs

FIXTURES = ROOT / "tests" / "fixtures"


def fixture(path: str) -> dict[str, Any]:
    return json.loads(Path(FIXTURES, path).read_text())


def test_a_lone_surrogate_in_free_text_is_queued_as_a_replacement_character_not_answered_503(bridge: Bridge, vendors):
    # JSON lets a string hold half a surrogate pair (an answer cut inside an emoji); UTF-8, which
    # SQS and every vendor speak, cannot carry one. Escaped as a provider's encoder writes it.
    response = fixture("typeform/form_response.json")
    response["form_response"]["hidden"]["user_id"] = "u_48\ud83d"
    body = json.dumps(response).encode()
    assert b"\\ud83d" in body
    status, answer = bridge.post("typeform", body)
    assert (status, answer["status"]) == (200, "accepted")
    bridge.drain(Vendor("customerio"))
    (identify,) = [call for call in vendors.calls if call.request.method == "PUT"]
    assert json.loads(identify.request.content)["user_id"] == "u_48\ufffd"


def test_a_stripe_event_whose_metadata_holds_a_lone_surrogate_is_accepted(bridge: Bridge, vendors):
    event = fixture("stripe/2025-09-30.clover/checkout.session.completed.json")
    event["created"] = int(time.time())
    event["data"]["object"]["metadata"] = {"utm_campaign": "otoño \udc00"}
    status, answer = bridge.post("stripe", json.dumps(event).encode())
    assert (status, answer["messages"]) == (200, len(specs()))
