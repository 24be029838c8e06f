"""devstack.support: the events, context and signatures the tests and benchmarks hand the handlers."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from devstack.support.events import sqs_event, webhook_event
from devstack.support.lambda_context import LambdaContext
from devstack.support.signing import TEST_SECRETS, signature, signature_matches
from webhook_bridge.signatures.stripe import verify_stripe_signature
from webhook_bridge.signatures.typeform import verify_typeform_signature

BODY = json.dumps({"id": "evt_1", "data": {"object": {"name": "Zoë"}}}, ensure_ascii=False).encode()


@pytest.mark.parametrize("provider", ["stripe", "typeform"])
def test_a_webhook_event_carries_its_body_unchanged_and_a_signature_the_bridge_accepts(provider: str) -> None:
    event = webhook_event(provider, BODY)
    assert (event["rawPath"], event["requestContext"]["http"]["method"]) == (f"/webhooks/{provider}", "POST")
    assert event["body"].encode() == BODY and event["isBase64Encoded"] is False
    header = event["headers"][f"{provider}-signature"]  # lowercased, as API Gateway passes headers
    if provider == "stripe":
        verify_stripe_signature(BODY, header, [TEST_SECRETS["stripe"]])
    else:
        verify_typeform_signature(BODY, header, [TEST_SECRETS["typeform"]])


@pytest.mark.parametrize("provider", ["stripe", "typeform"])
def test_the_benchmarks_bare_check_accepts_a_signature_only_for_its_own_body_and_secret(provider: str) -> None:
    header = signature(provider, BODY)
    assert signature_matches(provider, BODY, header)
    assert not signature_matches(provider, BODY + b" ", header)
    assert not signature_matches(provider, BODY, header, secret="another secret")


def test_the_benchmarks_bare_check_refuses_a_stripe_signature_older_than_five_minutes() -> None:
    assert signature_matches("stripe", BODY, signature("stripe", BODY, timestamp=int(time.time()) - 290))
    assert not signature_matches("stripe", BODY, signature("stripe", BODY, timestamp=int(time.time()) - 310))


def test_sqs_records_are_distinct_messages_with_their_bodys_md5() -> None:
    records = sqs_event("a", "a", queue="bridge-LoopsQueue")["Records"]
    assert len({record["messageId"] for record in records}) == 2
    for record in records:
        assert record["md5OfBody"] == hashlib.md5(b"a", usedforsecurity=False).hexdigest()
        assert record["eventSourceARN"].endswith(":bridge-LoopsQueue")
        assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_the_context_counts_down_to_its_deadline_or_keeps_a_whole_timeout() -> None:
    assert LambdaContext(remaining_ms=1234).get_remaining_time_in_millis() == 1234
    remaining = LambdaContext(deadline_ms=time.time() * 1000 + 5000).get_remaining_time_in_millis()
    assert 0 < remaining <= 5000
    assert LambdaContext(deadline_ms=time.time() * 1000 - 1).get_remaining_time_in_millis() == 0
