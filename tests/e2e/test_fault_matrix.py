"""Faults through `make dev`: each ends delivered, or in the DLQ with a reason, and no email leaks.

Vendor faults come from the sandbox, AWS faults from the injector in front of moto
(devstack.aws_faults); the stack keeps secrets in Secrets Manager, as on AWS. Retry
delays are configured down to seconds, so nothing waits for real time to pass.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import bridgectl, customer_created, post_stripe, stack_output, successes, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("stack")]


def new_email() -> tuple[str, str]:
    local = f"zoe.{uuid.uuid4().hex[:12]}"
    return local, f"{local}@example.com"


def delivered_once(sandbox: Any, vendor: str, email: str) -> dict[str, Any]:
    (call,) = wait_for(lambda: successes(sandbox, vendor, email), timeout=60)
    return call


def retries_logged(stack: Any, function: str, error: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stack.logs(function) if line.startswith("{")]
    return [line for line in lines if line.get("message") == "retry scheduled" and line.get("error") == error]


def assert_no_trace_of(stack: Any, local_part: str, *outputs: str) -> None:
    for text in (stack_output(stack), *outputs):
        assert local_part not in text


def test_a_vendor_refusing_the_key_twice_then_accepting_gets_the_call_once(stack, sandbox):
    local, email = new_email()
    sandbox.add_fault("loops", status=401, count=2)
    assert post_stripe(stack, customer_created(email)).status_code == 200
    delivered_once(sandbox, "loops", email)
    assert Counter(r["status"] for r in sandbox.requests("loops")) == Counter({401: 2, 200: 1})
    auth_failures = [line for line in stack.logs("LoopsDeliveryFunction") if '"AuthFailed"' in line]
    assert len(auth_failures) >= 2  # one metric line per refused attempt (EMF)
    assert stack.queue_counts("LoopsDeadLetterQueue")["visible"] == 0
    assert_no_trace_of(stack, local)


def assert_retried_then_delivered_once(stack: Any, sandbox: Any, vendor: str, error: str, code: str) -> None:
    local, email = new_email()
    assert post_stripe(stack, customer_created(email)).status_code == 200
    delivered_once(sandbox, vendor.lower(), email)
    retries = retries_logged(stack, f"{vendor}DeliveryFunction", error)
    assert [r["code"] for r in retries][-2:] == [code, code]  # two attempts failed, each with its reason
    assert stack.queue_counts(f"{vendor}DeadLetterQueue")["visible"] == 0
    assert_no_trace_of(stack, local)


def test_dynamodb_throttling_during_delivery_is_retried_until_delivered(stack, sandbox):
    # Two delivery attempts' worth (botocore tries twice itself) of throttled idempotency writes.
    throttled = "ProvisionedThroughputExceededException"
    stack.add_aws_fault("DynamoDB_20120810.PutItem", throttled, count=4, body_contains="delivery#customerio#")
    assert_retried_then_delivered_once(stack, sandbox, "CustomerIo", "IdempotencyPersistenceLayerError", throttled)


def test_secrets_manager_unavailable_for_a_while_delays_delivery_but_loses_nothing(stack, sandbox):
    secret_id = stack.function_envs["SegMetricsDeliveryFunction"]["SECRET_ID"]
    # A refused key makes the next attempt read the secret afresh, and Secrets Manager is down then.
    sandbox.add_fault("segmetrics", status=401, count=1)
    unavailable = "InternalServiceError"
    stack.add_aws_fault("secretsmanager.GetSecretValue", unavailable, status=500, count=4, body_contains=secret_id)
    assert_retried_then_delivered_once(stack, sandbox, "SegMetrics", "GetParameterError", unavailable)


def test_a_vendor_error_repeating_the_email_is_dead_lettered_with_a_reason_and_no_email(stack, sandbox):
    local, email = new_email()
    sandbox.add_fault("customerio", status=400, count=1, echo=True)
    assert post_stripe(stack, customer_created(email)).status_code == 200
    wait_for(lambda: stack.queue_counts("CustomerIoDeadLetterQueue")["visible"], timeout=60)
    (refused,) = [r for r in sandbox.requests("customerio") if r["status"] == 400]
    assert local in json.dumps(refused["response"], ensure_ascii=False)  # the vendor did repeat it
    listed, shown = bridgectl(stack, "show", "customerio"), bridgectl(stack, "show", "customerio", "--json")
    assert listed.returncode == shown.returncode == 0, listed.stderr + shown.stderr
    (letter,) = [json.loads(line) for line in shown.stdout.splitlines()]
    assert (letter["reason"], letter["status"]) == ("BadRequestError (HTTP 400)", "400")
    assert_no_trace_of(stack, local, listed.stdout, shown.stdout, listed.stderr, shown.stderr)
    # Replayed once the vendor accepts it again, with one command.
    assert bridgectl(stack, "redrive", "customerio", "--all").returncode == 0
    delivered_once(sandbox, "customerio", email)
    assert stack.queue_counts("CustomerIoDeadLetterQueue")["visible"] == 0
