"""events/: ready API Gateway events whose bodies verify with the documented test secrets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.providers.conftest import context
from webhook_bridge.mapping_config import STRIPE_DEFAULT_EVENTS
from webhook_bridge.receiver.providers import PROVIDERS
from webhook_bridge.signatures.stripe import verify_stripe_signature
from webhook_bridge.signatures.typeform import verify_typeform_signature

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
STRIPE_SECRET = "whsec_test_webhook_bridge"  # as documented in docs/mapping.md
TYPEFORM_SECRET = "typeform_test_webhook_bridge"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_events", ROOT / "scripts" / "make_events.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Events live in events/<provider>/; events/env.json is the `sam local invoke --env-vars` file.
EVENT_FILES = sorted(path for path in EVENTS.rglob("*.json") if path.parent != EVENTS)
# events/eventbridge/: the Stripe events in EventBridge's envelope (tests/integration/test_eventbridge.py).
HTTP_EVENT_FILES = [path for path in EVENT_FILES if path.relative_to(EVENTS).parts[0] != "eventbridge"]


def test_committed_events_are_what_the_script_writes() -> None:
    expected = load_script().build_events()
    assert {str(path.relative_to(EVENTS)) for path in EVENT_FILES} == set(expected)
    for path in EVENT_FILES:
        assert path.read_text() == expected[str(path.relative_to(EVENTS))], f"re-run scripts/make_events.py: {path}"


def test_there_is_an_event_for_every_mapped_type_in_both_api_versions() -> None:
    names = {str(path.relative_to(EVENTS)) for path in EVENT_FILES}
    for version in ("2024-06-20", "2025-09-30.clover"):
        assert {f"stripe/{version}/{t}.json" for t in STRIPE_DEFAULT_EVENTS} <= names
        assert {f"eventbridge/{version}/{t}.json" for t in STRIPE_DEFAULT_EVENTS} <= names
    assert "typeform/form_response.json" in names


@pytest.mark.parametrize("path", HTTP_EVENT_FILES, ids=lambda p: str(p.relative_to(EVENTS)))
def test_event_is_a_signed_http_api_request(path: Path) -> None:
    event: dict[str, Any] = json.loads(path.read_text())
    provider = path.relative_to(EVENTS).parts[0]
    route = f"/webhooks/{provider}"
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", f"POST {route}", route)
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == route
    assert event["isBase64Encoded"] is False
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    body = event["body"].encode()
    assert int(headers["content-length"]) == len(body)

    if provider == "stripe":
        signed_at = int(headers["stripe-signature"].split(",")[0].removeprefix("t="))
        # The timestamp is fixed (deterministic files): verify at that moment, not now.
        assert verify_stripe_signature(body, headers["stripe-signature"], [STRIPE_SECRET], now=signed_at) == signed_at
    else:
        verify_typeform_signature(body, headers["typeform-signature"], [TYPEFORM_SECRET])

    # The hidden-email response identifies its respondent only on forms that opt in.
    opted_in = context({"typeform": {"default": {"hidden_email": True}}})
    actions = PROVIDERS[provider].mapper()(json.loads(body), opted_in if provider == "typeform" else context())
    # A dispute names its person only through an invoice seen before; partial responses and erasure are opt-in.
    ignored = path.stem in (
        "invoice_payment.paid",
        "form_response_partial",
        "charge.dispute.created",
        "customer.deleted",
    )
    assert (actions == []) is ignored


def test_check_mode_reports_stale_files(tmp_path: Path) -> None:
    script = load_script()
    assert script.main(["--out", str(tmp_path)]) == 0
    assert script.main(["--out", str(tmp_path), "--check"]) == 0
    next(tmp_path.rglob("invoice.paid.json")).write_text("{}")
    assert script.main(["--out", str(tmp_path), "--check"]) == 1
