"""Property: no request makes a receiver answer 5xx, signed or not, well-formed or not.

The whole HTTP path runs (resolver, signature, parsing, real mappings on in-memory state);
only SQS and DynamoDB are replaced by in-memory stand-ins, which always succeed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.support.signing import signature
from tests.providers.test_properties import json_values, mutated_stripe_events, mutated_typeform_payloads
from tests.receiver.conftest import SECRETS
from tests.receiver.test_http import api_event
from webhook_bridge.mapping_config import MappingContext
from webhook_bridge.providers.stripe.mapper import map_stripe_event
from webhook_bridge.providers.typeform import map_typeform_event
from webhook_bridge.receiver.http import build_app
from webhook_bridge.receiver.logic import Receiver
from webhook_bridge.receiver.mapping import ProviderMapping
from webhook_bridge.receiver.providers import STRIPE, TYPEFORM
from webhook_bridge.vendors.catalog import vendors


class RunAlways:
    """Deduplication stand-in: runs the work (the real one is tested against moto)."""

    def __call__(self, event_id: str, process: Any) -> dict[str, Any]:
        return process()

    def register_lambda_context(self, context: Any) -> None:
        pass


def app_for(provider: str, published: list[Any], dedupe: Any = None) -> Any:
    spec, mapper = (STRIPE, map_stripe_event) if provider == "stripe" else (TYPEFORM, map_typeform_event)
    receiver = Receiver(
        spec=spec,
        mapping=ProviderMapping(mapper, MappingContext.in_memory()),
        enabled_vendors=vendors(),
        publish=lambda messages: published.extend(messages) or len(messages),
        dedupe=dedupe or RunAlways(),
        max_body_bytes=64 * 1024,
    )
    return build_app(f"/webhooks/{provider}", lambda: receiver)


def sign(provider: str, body: bytes) -> dict[str, str]:
    return {f"{provider}-signature": signature(provider, body, SECRETS[provider])}


def answer(provider: str, body: bytes, headers: dict[str, str], base64_encoded: bool = False) -> int:
    published: list[Any] = []
    event = api_event(body if base64_encoded else body.decode("utf-8", "replace"), headers, base64_encoded)
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/{provider}"
    response = app_for(provider, published).resolve(event, None)
    status = int(response["statusCode"])
    if status != 200:
        assert published == []  # a refused request sends nothing
    return status


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
providers = st.sampled_from(["stripe", "typeform"])


@PROPERTY
@given(provider=providers, payload=json_values)
def test_signed_arbitrary_json_is_never_a_5xx(monkeypatch_secrets: None, provider: str, payload: Any) -> None:
    body = json.dumps(payload).encode()
    assert answer(provider, body, sign(provider, body)) in {200, 400, 413}


@PROPERTY
@given(provider=providers, body=st.binary(max_size=2048), base64_encoded=st.booleans(), signed=st.booleans())
def test_arbitrary_bytes_are_never_a_5xx(
    monkeypatch_secrets: None, provider: str, body: bytes, base64_encoded: bool, signed: bool
) -> None:
    if not base64_encoded:  # API Gateway passes text bodies as text
        body = body.decode("utf-8", "replace").encode()
    headers = sign(provider, body) if signed else {}
    assert answer(provider, body, headers, base64_encoded) in {200, 400, 401, 413}


@PROPERTY
@given(
    provider=providers,
    header=st.text(max_size=300),
    header_name=st.sampled_from(["stripe-signature", "Stripe-Signature", "typeform-signature", "x-other"]),
)
def test_forged_headers_are_never_a_5xx(
    monkeypatch_secrets: None, provider: str, header: str, header_name: str
) -> None:
    assert answer(provider, b'{"id": "evt_1", "type": "customer.created"}', {header_name: header}) in {400, 401}


@PROPERTY
@given(provider=providers, value=st.text(max_size=80), timestamp_offset=st.integers(-1000, 1000))
def test_well_shaped_forged_signatures_are_never_a_5xx(
    monkeypatch_secrets: None, provider: str, value: str, timestamp_offset: int
) -> None:
    """Headers that look right (t=…,v1=… / sha256=…) but carry anything, unicode included."""
    ts = int(time.time()) + timestamp_offset
    header = (
        {"stripe-signature": f"t={ts},v1={value}"}
        if provider == "stripe"
        else {"typeform-signature": f"sha256={value}"}
    )
    assert answer(provider, b'{"id": "evt_1", "type": "customer.created"}', header) == 401


@PROPERTY
@given(payload=mutated_stripe_events())
def test_signed_mutated_stripe_events_are_never_a_5xx(monkeypatch_secrets: None, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert answer("stripe", body, sign("stripe", body)) in {200, 400}


@PROPERTY
@given(payload=mutated_typeform_payloads())
def test_signed_mutated_typeform_payloads_are_never_a_5xx(monkeypatch_secrets: None, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert answer("typeform", body, sign("typeform", body)) in {200, 400}
