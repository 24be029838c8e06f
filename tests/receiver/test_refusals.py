"""What the receivers answer to odd but signed requests, and when we could not queue the event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from botocore.exceptions import ClientError

from tests.receiver.test_http import api_event
from tests.receiver.test_never_5xx import app_for, sign
from webhook_bridge.receiver.logic import MAX_JSON_DEPTH

PROVIDERS = ("stripe", "typeform")


class DynamoDBDown:
    def __call__(self, event_id: str, process: Any) -> dict[str, Any]:
        throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
        raise IdempotencyPersistenceLayerError("Failed to save in progress record", throttled) from throttled

    def register_lambda_context(self, context: Any) -> None:
        pass


pytestmark = pytest.mark.usefixtures("monkeypatch_secrets")


def post(provider: str, body: bytes, dedupe: Any = None) -> tuple[int, dict[str, Any], list[Any]]:
    published: list[Any] = []
    event = api_event(body.decode(), sign(provider, body))
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/{provider}"
    response = app_for(provider, published, dedupe).resolve(event, None)
    return int(response["statusCode"]), json.loads(response["body"]), published


def stripe_customer(email: str) -> bytes:
    event = {
        "id": "evt_refusal",
        "object": "event",
        "type": "customer.created",
        "created": 1761000000,
        "data": {"object": {"id": "cus_1", "object": "customer", "email": email, "name": "Zoë Núñez"}},
    }
    return json.dumps(event, ensure_ascii=False).encode()


def typeform_response(email: str) -> bytes:
    answer = {"type": "email", "email": email, "field": {"id": "f1", "ref": "work_email", "type": "email"}}
    response = {"form_id": "F1", "token": "t1", "submitted_at": "2026-11-01T12:00:00Z", "answers": [answer]}
    return json.dumps({"event_id": "E1", "event_type": "form_response", "form_response": response}).encode()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "nested",
    ['{"id": "evt_1", "type": "x", "data": ' + "[" * 20_000 + "]" * 20_000 + "}", "{" + '"a":{' * 500 + "}" * 501],
    ids=["beyond-the-parser", "beyond-our-limit"],
)
def test_a_signed_body_nested_too_deeply_answers_400(provider, nested):
    status, answer, published = post(provider, nested.encode())
    assert (status, answer["error"]) == (400, "malformed_body")
    assert str(MAX_JSON_DEPTH) in answer["message"]
    assert published == []


def nested_to(depth: int) -> bytes:
    """A signed event whose containers nest exactly ``depth`` levels, the event itself the first."""
    inner = '{"a":' * (depth - 3) + "[]" + "}" * (depth - 3)
    envelope = '{"id": "evt_deep", "type": "x", "created": 1, "event_id": "E1", "event_type": "x", "data": {"object": '
    return (envelope + inner + "}}").encode()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_nesting_limit_is_exact(provider):
    status, answer, _ = post(provider, nested_to(MAX_JSON_DEPTH))
    assert status == 200, answer
    status, answer, published = post(provider, nested_to(MAX_JSON_DEPTH + 1))
    assert (status, answer["error"], published) == (400, "malformed_body", [])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_could_not_queue_answers_503_for_every_provider(provider, logged):
    body = stripe_customer("jane@example.com") if provider == "stripe" else typeform_response("jane@example.com")
    status, answer, published = post(provider, body, dedupe=DynamoDBDown())
    assert (status, answer["error"]) == (503, "queue_unavailable")
    assert "ProvisionedThroughputExceededException" in logged()
    assert "jane" not in logged()


@pytest.mark.parametrize(
    "email",
    [
        "jane\n@example.com",
        "jane@example.com\r\nBcc: eve@example.com",
        "jane doe@example.com",
        "jane@exa\tmple.com",
        "ja\u200bne@example.com",
        "jane\x00@example.com",
    ],
    ids=["newline", "header-injection", "space", "tab", "zero-width", "nul"],
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_emails_with_control_characters_or_whitespace_are_refused(provider, email, logged):
    body = stripe_customer(email) if provider == "stripe" else typeform_response(email)
    status, answer, published = post(provider, body)
    assert (status, answer["error"]) == (400, "malformed_body")
    assert published == []
    assert "jane" not in logged() + json.dumps(answer)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_surrounding_spaces_are_trimmed_not_refused(provider):
    body = stripe_customer("  Jane@Example.com ") if provider == "stripe" else typeform_response(" Jane@Example.com ")
    status, _, published = post(provider, body)
    assert status == 200
    assert {message.action.person.email for message in published} == {"jane@example.com"}


def test_a_missing_secret_is_counted_as_a_refusal(monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    status, answer, _ = post("stripe", stripe_customer("jane@example.com"))
    assert (status, answer["error"]) == (401, "invalid_signature")
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("WebhookRefused") == [1.0] and m.get("reason") == "missing_secret" for m in metrics)
