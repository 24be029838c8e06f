"""SnapStart: each function registers its hooks, and snapshot → restore → request works as Lambda runs them."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from devstack.support.handlers import load_function
from devstack.support.signing import signed_headers
from devstack.support.snapstart import SnapStartRuntime
from tests.conftest import FakeAws
from tests.integration.conftest import ROOT, Bridge
from webhook_bridge import secrets
from webhook_bridge.delivery.factory import build_processor
from webhook_bridge.receiver.factory import build_receiver
from webhook_bridge.receiver.providers import STRIPE
from webhook_bridge.receiver.publisher import sqs_client
from webhook_bridge.state.dynamodb import dynamodb_client
from webhook_bridge.vendors.catalog import Vendor

FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnapStartRuntime]:
    """Functions loaded after this fixture register their hooks with it (request it after ``bridge``)."""
    runtime = SnapStartRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime.module)
    yield runtime
    secrets._secrets_provider.cache_clear()


@pytest.fixture
def stripe_secret(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """The Stripe receiver's secret in Secrets Manager, as on AWS; the returned function rotates it."""
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="bridge/stripe", SecretString=json.dumps({"STRIPE_WEBHOOK_SECRET": "whsec_v1"}))[
        "ARN"
    ]
    monkeypatch.setenv("SECRET_ID", arn)
    secrets._secrets_provider.cache_clear()

    def rotate(value: str) -> None:
        client.put_secret_value(SecretId=arn, SecretString=json.dumps({"STRIPE_WEBHOOK_SECRET": value}))

    yield rotate
    secrets._secrets_provider.cache_clear()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_registers_one_warm_up_and_one_refresh(function, runtime, aws, monkeypatch):
    load_function(function)
    assert (len(runtime.before), len(runtime.after)) == (1, 1)


def test_without_lambdas_runtime_nothing_is_registered_and_the_handler_still_answers(bridge):
    assert "snapshot_restore_py" not in sys.modules
    status, body = bridge.post("stripe", customer_created("evt_no_snapstart"))
    assert (status, body["status"]) == (200, "accepted")


def test_the_snapshot_holds_the_built_receiver_and_clients_but_no_secret(
    bridge: Bridge, stripe_secret, runtime, monkeypatch
):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    for cached in (build_receiver, sqs_client, dynamodb_client, secrets._secrets_provider):
        cached.cache_clear()
    stripe = load_function("stripe_webhook")

    runtime.snapshot()

    assert build_receiver.cache_info().currsize == 1
    assert sqs_client.cache_info().currsize == dynamodb_client.cache_info().currsize == 1
    assert secrets._secrets_provider.cache_info().currsize == 1
    bridge.stripe = stripe
    # Rotated after the snapshot and nothing refreshed: the first read happens only now.
    stripe_secret("whsec_v2")
    status, body = bridge.post("stripe", customer_created("evt_after_restore"), sign=signed_with("whsec_v2"))
    assert (status, body["status"]) == (200, "accepted")


def test_a_restored_environment_reads_its_secrets_again(bridge: Bridge, stripe_secret, runtime, monkeypatch):
    """A secret read before the snapshot (a warm-up that went too far, or a later change) must not
    outlive it: the rotation after the snapshot is what the restored receiver verifies against."""
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    bridge.stripe = load_function("stripe_webhook")
    runtime.snapshot()
    assert secrets.get_secret_value("STRIPE_WEBHOOK_SECRET") == "whsec_v1"  # now cached
    stripe_secret("whsec_v2")

    runtime.restore()

    assert bridge.post("stripe", customer_created("evt_old_key"), sign=signed_with("whsec_v1"))[0] == 401
    status, body = bridge.post("stripe", customer_created("evt_new_key"), sign=signed_with("whsec_v2"))
    assert (status, body["status"]) == (200, "accepted")


def test_environments_restored_from_one_snapshot_draw_different_retry_jitter(runtime, aws, monkeypatch):
    load_function("stripe_webhook")
    runtime.snapshot()
    snapshot_state = random.getstate()
    draws = []
    for _ in range(2):  # two execution environments restored from the same memory
        random.setstate(snapshot_state)
        runtime.restore()
        draws.append([random.random() for _ in range(4)])
    assert draws[0] != draws[1]


def test_the_delivery_warm_up_builds_the_processor_without_calling_aws_or_the_vendor(runtime, monkeypatch):
    # Nothing listens there: any call would fail (and the failure would be logged, not raised).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name, value in {
        "VENDOR": Vendor("loops").value,
        "QUEUE_URL": "http://127.0.0.1:9/123456789012/loops",
        "DLQ_URL": "http://127.0.0.1:9/123456789012/loops-dlq",
        "IDEMPOTENCY_TABLE": "t",
        "STATE_TABLE": "s",
    }.items():
        monkeypatch.setenv(name, value)
    from webhook_bridge.delivery.factory import warm_up
    from webhook_bridge.settings import delivery_settings

    for cached in (build_processor, delivery_settings, dynamodb_client, secrets._secrets_provider):
        cached.cache_clear()
    try:
        warm_up()  # raises if it reached for the network
        assert build_processor.cache_info().currsize == 1
    finally:
        for cached in (build_processor, delivery_settings, dynamodb_client, secrets._secrets_provider):
            cached.cache_clear()


def test_the_receiver_warm_up_makes_no_call(runtime, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "t")
    monkeypatch.setenv("STATE_TABLE", "s")
    from webhook_bridge.receiver.factory import warm_up
    from webhook_bridge.settings import receiver_settings

    caches = (build_receiver, receiver_settings, sqs_client, dynamodb_client, secrets._secrets_provider)
    for cached in caches:
        cached.cache_clear()
    try:
        warm_up(STRIPE)
        assert build_receiver.cache_info().currsize == 1
    finally:
        for cached in caches:
            cached.cache_clear()


def customer_created(event_id: str) -> dict[str, Any]:
    return {"id": event_id, "type": "customer.created", "created": 1_700_000_000, "data": {"object": _CUSTOMER}}


_CUSTOMER = {"id": "cus_snap", "object": "customer", "email": "snap@example.com", "created": 1_700_000_000}


def signed_with(secret: str) -> Callable[[bytes], dict[str, str]]:
    return lambda body: signed_headers("stripe", body, secret)
