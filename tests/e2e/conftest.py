"""The `make dev` stack, started once for these tests: moto, HTTP API, pollers, vendor sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from devstack.support.signing import TEST_SECRETS, signed_headers
from webhook_bridge.ops.cli import main

ERASURE_MAPPING = {"stripe": {"events": {"customer.deleted": {"erase": True}}}}


# Short delays, so that outages of a few seconds and actions waiting for their customer's
# email (0.5 s, doubling) play out within a test.
FAST_DELAYS = {
    "RETRY_BASE_DELAY_SECONDS": "0.5",
    "RETRY_MAX_DELAY_SECONDS": "2",
    "IDENTITY_WAIT_BASE_SECONDS": "0.5",
}


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # The identity window outlasts the slowest posting of a test's webhooks on a busy machine;
    # one retry inside botocore, so injected AWS faults reach the bridge's own retry path at once.
    env = {
        **FAST_DELAYS,
        "IDENTITY_WAIT_WINDOW_SECONDS": "60",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "2",
    }
    # Secrets in (emulated) Secrets Manager, as on AWS, so tests can make it unavailable. Erasure
    # opted in, as an operator would, for test_erasure.py: no other test sends customer.deleted.
    with Stack(
        port=0,
        env_overrides=env,
        parameter_overrides={"BridgeMapping": json.dumps(ERASURE_MAPPING)},
        log_sink=None,
        poll_wait_seconds=1,
        secrets_manager=True,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def impatient_stack() -> Iterator[Stack]:
    """A second stack that gives up on an unknown email after two short waits (1.5 s)."""
    env = {**FAST_DELAYS, "IDENTITY_WAIT_WINDOW_SECONDS": "3"}
    with Stack(port=0, env_overrides=env, log_sink=None, poll_wait_seconds=1) as running:
        running.sandbox.reset()
        yield running


@pytest.fixture
def sandbox(stack: Stack) -> Any:
    stack.sandbox.reset()
    yield stack.sandbox
    stack.sandbox.clear_faults()
    stack.clear_aws_faults()


@pytest.fixture
def bridgectl_main(stack: Stack, capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """bridgectl's main in this process with AWS clients of the stack (as AWS_ENDPOINT_URL would give
    them), any command, output captured; ``bridgectl`` below runs ``dlq`` commands as a subprocess."""

    def run(*argv: str) -> str:
        capsys.readouterr()
        clients = stack.client("sqs"), stack.client("lambda"), stack.client("dynamodb")
        code = main(["--stack", stack.template.stack_name, *argv], *clients)
        out = capsys.readouterr().out
        assert code == 0, out
        return out

    return run


def customer_created(email: str | None = None) -> dict[str, Any]:
    event_id = f"evt_{uuid.uuid4().hex[:24]}"
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "type": "customer.created",
        "data": {
            "object": {
                "id": f"cus_{uuid.uuid4().hex[:14]}",
                "object": "customer",
                "email": email or f"{event_id}@example.com",
                "name": "Zoë Núñez",
                "created": int(time.time()),
                "metadata": {},
            }
        },
    }


def post_stripe(stack: Stack, payload: dict[str, Any], secret: str = TEST_SECRETS["stripe"]) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers("stripe", body, secret)
    return httpx.post(stack.route_url("StripeWebhookFunction"), content=body, headers=headers, timeout=30)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until ``condition`` returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def successes(sandbox: Any, vendor: str, email: str) -> list[dict[str, Any]]:
    """2xx requests the sandbox recorded for ``vendor`` that concern ``email``."""
    return [
        r
        for r in sandbox.requests(vendor)
        if 200 <= r["status"] < 300 and email in json.dumps(r.get("body"), ensure_ascii=False) + r["path"]
    ]


def bridgectl(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """``bridgectl --stack <name> dlq …`` against the stack's moto, as an operator runs it."""
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.aws_endpoint, "AWS_REGION": stack.region}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    assert stack.template is not None
    command = [sys.executable, "-m", "webhook_bridge.ops.cli", "--stack", stack.template.stack_name, "dlq", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def stack_output(stack: Stack) -> str:
    """Everything every function and moto printed so far."""
    return "\n".join(line for source in [*stack.runtimes, "moto"] for line in stack.logs(source))
