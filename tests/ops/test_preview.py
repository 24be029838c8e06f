"""`bridgectl preview`: the actions and exact vendor requests of an event file, masked, with no AWS."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.canary import stripe_customer_created, telltales_in, typeform_response
from tests.integration.test_events import EXPECTED, TRACK
from webhook_bridge.ops.cli import main as bridgectl
from webhook_bridge.vendors.catalog import Vendor, vendors

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# The documented paths (tests/integration/test_events.py) as the default API roots name them.
ROOTS = {
    "convertloop": "https://api.convertloop.co/v1",
    "loops": "https://app.loops.so/api/v1",
    "customerio": "https://track.customer.io/api/v1",
    "segmetrics": "https://import.segmetrics.io/api/v1/preview-segmetrics_account_id/preview-segmetrics_integration_id",
}


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to reach: a preview that tried AWS or a vendor would fail."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("BRIDGE_MAPPING", "AWS_PROFILE", *(f"{v.env_prefix}_BASE_URL" for v in vendors())):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = bridgectl(["preview", *argv])
    return code, capsys.readouterr().out


def as_json(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> dict[str, Any]:
    code, out = run(capsys, str(path), "--json", *argv)
    assert code == 0
    return dict(json.loads(out))


def calls(result: dict[str, Any]) -> set[tuple[Vendor, str]]:
    seen = set()
    for request in result["requests"]:
        path = request["url"].removeprefix(ROOTS[request["vendor"]])
        if request["vendor"] == "customerio":
            path = re.sub(r"^/customers/[^/]+", "/customers/{id}", path)
        seen.add((Vendor(request["vendor"]), f"{request['method']} {path}"))
    return seen


@pytest.mark.parametrize(
    "path", sorted(EVENTS.glob("eventbridge/*/*.json")) + sorted(EVENTS.glob("typeform/*.json")), ids=lambda p: p.stem
)
def test_every_sample_previews_the_documented_calls_without_a_raw_email(capsys, monkeypatch, path: Path):
    if path.stem.endswith("_hidden_email"):  # identifies its respondent only on forms that opt in
        monkeypatch.setenv("BRIDGE_MAPPING", json.dumps({"typeform": {"default": {"hidden_email": True}}}))
    result = as_json(capsys, path)
    # A refund or dispute names its invoice, or its person, only once the invoice was seen: a preview
    # starts with empty memory.
    unknown_invoice = {
        "charge.refunded": {(Vendor("segmetrics"), "POST /invoice")},
        "charge.dispute.created": set(TRACK.items()),
    }
    endpoints, _ = EXPECTED[path.stem.removesuffix("_hidden_email")]
    expected = set(endpoints) - unknown_invoice.get(path.stem, set())
    assert calls(result) == expected
    assert not EMAIL.findall(json.dumps(result).replace("***@", "").replace("***.", ""))


def test_the_three_envelopes_of_one_event_preview_alike(capsys, tmp_path):
    sample = "2025-09-30.clover/customer.created.json"
    http_event = json.loads((EVENTS / "stripe" / sample).read_text())
    envelopes = {
        "api-gateway": http_event,
        "stripe": json.loads(http_event["body"]),
        "eventbridge": json.loads((EVENTS / "eventbridge" / sample).read_text()),
    }
    results = []
    for name, document in envelopes.items():
        (tmp_path / name).write_text(json.dumps(document))
        results.append(as_json(capsys, tmp_path / name))
    assert results[0] == results[1] == results[2]
    assert len(results[0]["requests"]) == 4


def test_the_exact_loops_request_of_a_customer(capsys):
    result = as_json(capsys, EVENTS / "eventbridge/2025-09-30.clover/customer.created.json", "--vendor", "loops")
    (request,) = result["requests"]
    assert (request["method"], request["url"]) == ("PUT", "https://app.loops.so/api/v1/contacts/update")
    assert request["headers"] == {"authorization": "Bearer ***", "content-type": "application/json"}
    assert request["body"] == {
        "email": "z***@e***.com",
        "firstName": "***",
        "lastName": "***",
        "stripe_customer_id": "***",  # a trait: traits are masked, whatever they hold
    }


def test_bridge_mapping_is_applied(capsys, tmp_path, monkeypatch):
    invoice = EVENTS / "eventbridge/2025-09-30.clover/invoice.paid.json"
    mapping = {"stripe": {"events": {"invoice.paid": {"event_name": "payment_received", "vendors": ["customerio"]}}}}
    monkeypatch.setenv("BRIDGE_MAPPING", json.dumps(mapping))
    result = as_json(capsys, invoice)
    assert {r["vendor"] for r in result["requests"]} == {"customerio"}
    (event,) = [r for r in result["requests"] if r["url"].endswith("/events")]
    assert event["body"]["name"] == "payment_received"
    # --mapping takes a file instead, to try a change before deploying it.
    (tmp_path / "mapping.json").write_text(json.dumps({"stripe": {"events": {"invoice.paid": {"enabled": False}}}}))
    code, out = run(capsys, str(invoice), "--mapping", str(tmp_path / "mapping.json"))
    assert code == 0 and "0 action(s), 0 request(s)" in out


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"hello": "world"}), json.dumps({"detail-type": "x", "detail": {}, "source": "y"})],
)
def test_what_is_not_an_event_is_refused_with_exit_2(capsys, tmp_path, content):
    (tmp_path / "file.json").write_text(content)
    assert bridgectl(["preview", str(tmp_path / "file.json")]) == 2
    assert "bridgectl preview:" in capsys.readouterr().err


def test_an_invalid_mapping_is_refused_with_exit_2(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_MAPPING", json.dumps({"stripe": {"evnts": {}}}))
    assert bridgectl(["preview", str(EVENTS / "typeform/form_response.json")]) == 2
    assert "evnts" in capsys.readouterr().err


def test_an_event_without_an_email_says_the_delivery_fills_it_in(capsys):
    result = as_json(capsys, EVENTS / "eventbridge/2025-09-30.clover/customer.subscription.updated.json")
    assert result["notes"] == ["cus_NsFdx4y0VO9Vps: no email in the event; the delivery uses the one it remembers"]
    assert {r["body"]["email"] for r in result["requests"] if r["vendor"] == "loops"} == {"r***@e***.invalid"}


@pytest.mark.parametrize("payload", [typeform_response(), stripe_customer_created()], ids=["typeform", "stripe"])
def test_answers_under_opaque_field_refs_and_stripe_addresses_are_masked(capsys, tmp_path, payload):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    code, text = run(capsys, str(event))
    result = as_json(capsys, event)
    assert code == 0 and result["requests"]
    assert telltales_in(text, result) == []
