"""The whole local stack: HTTP API → receiver → SQS → delivery → DLQ, with stub handlers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from devstack.__main__ import banner
from devstack.stack import Stack
from devstack.state import read_state
from devstack.support.signing import signed_headers
from devstack.template import load_template
from webhook_bridge.vendors.catalog import specs

from .conftest import (
    read_jsonl,
    stub_project,
    wait_until,
)

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stub_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def stack(project_dir: Path) -> Iterator[Stack]:
    # Short visibility timeout and no batching window: a failing message reaches its DLQ in seconds.
    template = (
        load_template(project_dir / "template.yaml")
        .with_queue_overrides(visibility_timeout=1, max_receive_count=2)
        .with_event_source_overrides(batching_window_seconds=0)
    )
    with Stack(
        template=template,
        env_overrides={"STUB_OUT": str(project_dir / "delivered.jsonl")},
        state_file=project_dir / ".devstack" / "state.json",
        poll_wait_seconds=1,
        log_sink=None,
    ) as running:
        yield running


def test_stripe_cli_style_request_reaches_the_receiver_unchanged(stack: Stack) -> None:
    # What `stripe listen --forward-to localhost:3000/webhooks/stripe` sends.
    body = json.dumps({"id": "evt_cli", "object": "event", "data": {"object": {"name": "Zoë"}}}, indent=2).encode()
    headers = {
        **signed_headers("stripe", body),
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    response = httpx.post(stack.route_url("StripeWebhookFunction"), content=body, headers=headers, timeout=30)
    assert response.status_code == 200, stack.logs("StripeWebhookFunction")
    received = response.json()
    event = received["event"]
    assert event["body"].encode() == body
    assert event["headers"]["stripe-signature"] == headers["Stripe-Signature"]
    assert event["routeKey"] == "POST /webhooks/stripe"
    assert received["module"] == "fn_stripe_webhook_app"
    env = received["env"]
    assert env["STRIPE_WEBHOOK_SECRET"] == "whsec_test_webhook_bridge"
    assert env["SECRET_ID"] is None
    assert env["AWS_ENDPOINT_URL"] == stack.aws_endpoint
    assert env["API_URL"] == stack.api_url  # !GetAtt WebhookApi.ApiEndpoint is the local API
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "webhook-bridge-StripeWebhookFunction"


def test_delivery_functions_are_fed_from_their_queues(stack: Stack, project_dir: Path) -> None:
    out = project_dir / "delivered.jsonl"
    response = httpx.post(stack.route_url("TypeformWebhookFunction"), content=b'{"hello": "ok"}', timeout=30)
    assert response.status_code == 200

    def delivered() -> set[str | None]:
        return {r["vendor"] for r in read_jsonl(out) if '{"hello": "ok"}' in r["bodies"]}

    assert wait_until(lambda: delivered() == {"convertloop", "loops"}, timeout=30)


def test_failing_deliveries_end_in_the_dead_letter_queues(stack: Stack) -> None:
    response = httpx.post(stack.route_url("StripeWebhookFunction"), content=b'{"please": "fail"}', timeout=30)
    assert response.status_code == 200

    def dead_lettered(dlq: str) -> Callable[[], bool]:
        return lambda: stack.queue_counts(dlq)["visible"] == 1

    for dlq in ("ConvertLoopDeadLetterQueue", "LoopsDeadLetterQueue"):
        assert wait_until(dead_lettered(dlq), timeout=30), dlq
    assert stack.wait_until_drained(timeout=30)


def test_each_function_has_its_own_wiring(stack: Stack) -> None:
    convertloop = stack.function_envs["ConvertLoopDeliveryFunction"]
    assert (convertloop["VENDOR"], convertloop["QUEUE_URL"], convertloop["DLQ_URL"]) == (
        "convertloop",
        stack.queue_urls["ConvertLoopQueue"],
        stack.dlq_urls["ConvertLoopDeadLetterQueue"],
    )
    assert stack.function_envs["LoopsDeliveryFunction"]["QUEUE_URL"] == stack.queue_urls["LoopsQueue"]
    assert stack.function_envs["LoopsDeliveryFunction"]["VENDOR_RATE_LIMIT"] == "10"
    assert stack.queue_urls["ConvertLoopQueue"].startswith(stack.aws_endpoint)
    receiver = stack.function_envs["StripeWebhookFunction"]
    assert "VENDOR" not in receiver
    assert receiver["ENABLED_VENDORS"].split(",") == [spec.name for spec in specs()]
    if stack.sandbox is not None:
        assert receiver["LOOPS_BASE_URL"].startswith(stack.sandbox.url)


def test_tables_exist_with_their_ttl(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    for logical_id, attribute in (("IdempotencyTable", "expiration"), ("StateTable", "expires_at")):
        assert stack.resources is not None
        name = stack.resources.tables[logical_id].name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == attribute


def test_state_file_describes_the_running_stack(stack: Stack, project_dir: Path) -> None:
    state = read_state(project_dir / ".devstack" / "state.json")
    assert state is not None
    assert state["api_url"] == stack.api_url
    assert state["aws"]["endpoint"] == stack.aws_endpoint
    assert state["aws"]["region"] == stack.region
    assert state["queue_urls"] == stack.queue_urls


def test_the_banner_shows_routes_event_sources_and_secrets(stack: Stack, project_dir: Path) -> None:
    text = banner(stack, project_dir / ".devstack" / "state.json")
    assert f"POST   {stack.route_url('StripeWebhookFunction')}" in text
    expected = "(batch 5, window 0s, concurrency 2, DLQ ConvertLoopDeadLetterQueue after 2 receives)"
    assert f"ConvertLoopQueue -> ConvertLoopDeliveryFunction {expected}" in text
    assert "STRIPE_WEBHOOK_SECRET=whsec_test_webhook_bridge  (dev default)" in text


def test_unknown_route_is_404(stack: Stack) -> None:
    response = httpx.get(stack.api_url + "/webhooks/stripe", timeout=10)
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


def test_stop_cleans_up(project: Path) -> None:
    state_file = project / ".devstack" / "state.json"
    with Stack(template=project / "template.yaml", sandbox=False, state_file=state_file, log_sink=None) as stack:
        assert state_file.exists()
        workers = [w.process for runtime in stack.runtimes.values() for w in runtime._all]
        assert workers
        endpoint = stack.aws_endpoint
    assert not state_file.exists()
    assert all(process.poll() is not None for process in workers)
    with pytest.raises(httpx.TransportError):
        httpx.get(endpoint, timeout=2)


def test_start_failure_stops_what_started(project: Path) -> None:
    with Stack(template=project / "template.yaml", sandbox=False, log_sink=None) as first:
        clash = Stack(template=project / "template.yaml", sandbox=False, port=first.port, log_sink=None)
        with pytest.raises(OSError):
            clash.start()
        assert clash._moto is None


def test_injected_aws_faults_answer_as_aws_would_then_pass(moto) -> None:
    from botocore.exceptions import ClientError

    from devstack.aws import client

    dynamodb = client("dynamodb", moto.endpoint, "us-east-1")
    dynamodb.create_table(
        TableName="faults",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    moto.add_fault("DynamoDB_20120810.PutItem", "ProvisionedThroughputExceededException", count=4, body_contains="a#")
    # Only matching requests fail: another key passes; botocore tries the others 4 times (3 retries).
    dynamodb.put_item(TableName="faults", Item={"pk": {"S": "b#1"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName="faults", Item={"pk": {"S": "a#1"}})
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    dynamodb.put_item(TableName="faults", Item={"pk": {"S": "a#1"}})  # the fault is used up
    moto.add_fault("secretsmanager.GetSecretValue", "InternalServiceError", status=500, count=99)
    moto.clear_faults()
    secrets = client("secretsmanager", moto.endpoint, "us-east-1")
    secrets.create_secret(Name="s", SecretString="{}")
    assert secrets.get_secret_value(SecretId="s")["SecretString"] == "{}"
