"""Queues, event sources, functions and tables are wired as the architecture says."""

from __future__ import annotations

import json
import subprocess

import boto3
import pytest

from tests.template import cfn
from webhook_bridge.delivery.policy import RetryPolicy
from webhook_bridge.ops.queues import discover
from webhook_bridge.vendors.catalog import spec_for, specs, vendors

FOURTEEN_DAYS = 1_209_600


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_every_main_queue_redrives_to_its_own_dead_letter_queue(vendor: str) -> None:
    redrive = cfn.props(f"{vendor}Queue")["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == cfn.get_att(f"{vendor}DeadLetterQueue", "Arn")
    # Every delivery failure is re-enqueued by the delivery code; the redrive only catches crashes,
    # and gives them the retry policy's 26 h window: receives x visibility timeout.
    visibility = cfn.props(f"{vendor}Queue")["VisibilityTimeout"]
    assert int(redrive["maxReceiveCount"]) * int(visibility) >= RetryPolicy.window_seconds


def test_queues_are_exactly_one_main_queue_and_one_dlq_per_vendor() -> None:
    expected = {f"{v}{kind}" for v in cfn.VENDORS for kind in ("Queue", "DeadLetterQueue")}
    assert set(cfn.resources("AWS::SQS::Queue")) == expected | set(cfn.EVENTBRIDGE_QUEUES)
    for vendor in cfn.VENDORS:
        assert "RedrivePolicy" not in cfn.props(f"{vendor}DeadLetterQueue")


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_dead_letter_queue_accepts_only_its_source_queue(vendor: str) -> None:
    allow = cfn.props(f"{vendor}DeadLetterQueue")["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    queue_name = cfn.props(f"{vendor}Queue")["QueueName"]["Fn::Sub"]
    assert source == {"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"}


@pytest.mark.parametrize("queue", [f"{v}{k}" for v in cfn.VENDORS for k in ("Queue", "DeadLetterQueue")])
def test_queues_keep_messages_fourteen_days_encrypted(queue: str) -> None:
    properties = cfn.props(queue)
    assert int(properties["MessageRetentionPeriod"]) == FOURTEEN_DAYS
    assert properties["SqsManagedSseEnabled"] is True


def test_bridgectl_finds_every_queue_by_the_names_the_template_gives() -> None:
    from webhook_bridge.ops.queues import STRIPE_EVENTS, queue_names

    QUEUE_NAMES = queue_names()
    assert {QUEUE_NAMES[spec.name]: spec.name for spec in specs()} == {spec.logical_id: spec.name for spec in specs()}
    assert {QUEUE_NAMES[spec.name] for spec in specs()} == set(cfn.VENDORS)
    stack = "webhook-bridge"
    names = {
        lid: cfn.props(lid)["QueueName"]["Fn::Sub"].replace("${AWS::StackName}", stack)
        for lid in cfn.resources("AWS::SQS::Queue")
    }
    assert all(len(name) <= 80 for name in names.values())  # SQS limit; stack names up to ~50 fit

    class ListQueues:
        def get_paginator(self, _: str) -> ListQueues:
            return self

        def paginate(self, QueueNamePrefix: str) -> list[dict[str, list[str]]]:
            urls = [f"https://sqs.eu-west-1.amazonaws.com/1/{n}" for n in names.values()]
            return [{"QueueUrls": [u for u in urls if u.rsplit("/", 1)[1].startswith(QueueNamePrefix)]}]

    found = discover(ListQueues(), stack)
    assert set(found) == {*vendors(), STRIPE_EVENTS}
    for name, queues in found.items():
        logical = QUEUE_NAMES[name]
        assert queues.queue_url.endswith("/" + names[f"{logical}Queue"])
        assert queues.dlq_url.endswith("/" + names[f"{logical}DeadLetterQueue"])


# -- delivery functions ----------------------------------------------------------


def _sqs_events(function: str) -> list[dict]:
    events = cfn.function_props(function).get("Events", {})
    return [e["Properties"] for e in events.values() if e["Type"] == "SQS"]


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_delivery_function_consumes_exactly_its_own_queue(vendor: str) -> None:
    function = f"{vendor}DeliveryFunction"
    (source,) = _sqs_events(function)
    assert source["Queue"] == cfn.get_att(f"{vendor}Queue", "Arn")
    assert int(source["BatchSize"]) == 10
    assert source["MaximumBatchingWindowInSeconds"] == {"Ref": "DeliveryBatchingWindowSeconds"}
    assert list(source["FunctionResponseTypes"]) == ["ReportBatchItemFailures"]
    assert len(cfn.function_props(function)["Events"]) == 1


def test_each_queue_has_exactly_one_consumer_and_receivers_consume_none() -> None:
    consumed = [s["Queue"]["Fn::GetAtt"][0] for f in cfn.resources("AWS::Serverless::Function") for s in _sqs_events(f)]
    assert sorted(consumed) == sorted([*(f"{v}Queue" for v in cfn.VENDORS), "StripeEventsQueue"])
    for receiver in cfn.RECEIVERS:
        assert not _sqs_events(receiver)


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_max_concurrency_matches_what_the_function_is_told(vendor: str) -> None:
    function = f"{vendor}DeliveryFunction"
    (source,) = _sqs_events(function)
    maximum = source["ScalingConfig"]["MaximumConcurrency"]
    assert cfn.scalar(maximum) == cfn.scalar(cfn.env(function)["VENDOR_MAX_CONCURRENCY"])
    if isinstance(maximum, dict):  # a parameter: it cannot go below Lambda's minimum of 2
        spec = cfn.load()["Parameters"][maximum["Ref"]]
        assert spec["Type"] == "Number" and int(spec["MinValue"]) >= 2 and int(spec["Default"]) >= 2
    else:
        assert int(maximum) >= 2


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_visibility_timeout_covers_six_consumer_timeouts(vendor: str) -> None:
    function = f"{vendor}DeliveryFunction"
    (source,) = _sqs_events(function)
    timeout = int(cfn.function_props(function)["Timeout"])
    window = source["MaximumBatchingWindowInSeconds"]
    # A parameter: the largest window it allows must fit too.
    widest = int(cfn.load()["Parameters"][window["Ref"]]["MaxValue"]) if isinstance(window, dict) else int(window)
    assert int(cfn.props(f"{vendor}Queue")["VisibilityTimeout"]) >= 6 * timeout + widest


def test_the_delivery_batching_window_is_within_what_lambda_allows_and_trades_latency_for_cost() -> None:
    spec = cfn.load()["Parameters"]["DeliveryBatchingWindowSeconds"]
    assert spec["Type"] == "Number" and int(spec["MinValue"]) == 0 and int(spec["MaxValue"]) <= 300
    # The figure docs/benchmarks.md prices as deployed (benchmarks/cost.py reads it from here).
    assert 1 < int(spec["Default"]) <= int(spec["MaxValue"])


def test_loops_is_paced_at_its_documented_limit() -> None:
    parameters = cfn.load()["Parameters"]
    loops = cfn.env("LoopsDeliveryFunction")
    rate = parameters[loops["VENDOR_RATE_LIMIT"]["Ref"]]
    assert cfn.scalar(rate["Default"]) == "10" and cfn.scalar(rate["MaxValue"]) == "10"
    assert cfn.scalar(parameters[loops["VENDOR_MAX_CONCURRENCY"]["Ref"]]["Default"]) == "2"


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_vendors_are_paced_by_parameters_with_defaults(vendor: str) -> None:
    parameters = cfn.load()["Parameters"]
    limit = cfn.env(f"{vendor}DeliveryFunction")["VENDOR_RATE_LIMIT"]
    spec = parameters[limit["Ref"]]
    assert spec["Type"] == "Number" and float(spec["Default"]) >= 1 and float(spec["MinValue"]) >= 1


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_delivery_function_environment(vendor: str) -> None:
    function = f"{vendor}DeliveryFunction"
    properties = cfn.function_props(function)
    variables = cfn.env(function)
    assert properties["CodeUri"] == "functions/delivery"
    assert properties["Handler"] == "app.lambda_handler"
    assert variables["VENDOR"] == cfn.VENDORS[vendor]
    assert variables["QUEUE_URL"] == cfn.ref(f"{vendor}Queue")
    assert variables["DLQ_URL"] == cfn.ref(f"{vendor}DeadLetterQueue")
    # Its vendor's credentials, then the Stripe API key that resolves unknown emails.
    assert variables["SECRET_ID"] == {"Fn::Sub": f"${{{vendor}Secret}},${{StripeApiSecret}}"}
    assert variables["IDEMPOTENCY_TABLE"] == cfn.ref("IdempotencyTable")
    assert variables["STATE_TABLE"] == cfn.ref("StateTable")
    # Retries go back to the function's own queue for up to a day: Lambda must not cut that as a loop.
    assert properties["RecursiveLoop"] == "Allow"
    # Its API root: a parameter whose default is the one its spec documents (Customer.io's: by region, below).
    spec = spec_for(cfn.VENDORS[vendor])
    root = variables[f"{spec.env_prefix}_BASE_URL"]
    if vendor == "CustomerIo":
        return  # by region: test_customerio_region_picks_the_documented_track_api_root
    assert cfn.load()["Parameters"][root["Ref"]]["Default"] == spec.base_urls[f"{spec.env_prefix}_BASE_URL"]


def test_customerio_region_picks_the_documented_track_api_root() -> None:
    assert cfn.env("CustomerIoDeliveryFunction")["CUSTOMERIO_BASE_URL"] == {
        "Fn::FindInMap": ["CustomerIo", {"Ref": "CustomerIoRegion"}, "BaseUrl"]
    }
    regions = cfn.load()["Mappings"]["CustomerIo"]
    assert regions["us"]["BaseUrl"] == "https://track.customer.io/api/v1"
    assert regions["eu"]["BaseUrl"] == "https://track-eu.customer.io/api/v1"
    assert set(cfn.load()["Parameters"]["CustomerIoRegion"]["AllowedValues"]) == {"us", "eu"}


# -- receivers -----------------------------------------------------------------------


@pytest.mark.parametrize(("provider", "path"), cfn.ROUTES.items())
def test_receiver_route(provider: str, path: str) -> None:
    function = f"{provider}WebhookFunction"
    properties = cfn.function_props(function)
    ((_, event),) = properties["Events"].items()
    assert event["Type"] == "HttpApi"
    assert event["Properties"]["ApiId"] == cfn.ref("WebhookApi")
    assert event["Properties"]["Method"] == "POST"
    assert event["Properties"]["Path"] == path
    assert str(event["Properties"]["PayloadFormatVersion"]) == "2.0"
    assert properties["CodeUri"] == f"functions/{cfn.PROVIDERS[provider]}_webhook"
    assert properties["Handler"] == "app.lambda_handler"
    assert int(properties["Timeout"]) < 30  # inside the HTTP API's 30 s integration timeout


def test_one_http_api_serves_both_routes() -> None:
    assert list(cfn.resources("AWS::Serverless::HttpApi")) == ["WebhookApi"]
    assert not cfn.resources("AWS::Serverless::Api")


@pytest.mark.parametrize("provider", cfn.PROVIDERS)
def test_receiver_environment(provider: str) -> None:
    variables = cfn.env(f"{provider}WebhookFunction")
    assert variables["SECRET_ID"] == cfn.ref(f"{provider}Secret")
    for vendor in cfn.VENDORS:
        assert variables[f"{cfn.VENDORS[vendor].upper()}_QUEUE_URL"] == cfn.ref(f"{vendor}Queue")
    assert variables["IDEMPOTENCY_TABLE"] == cfn.ref("IdempotencyTable")
    assert variables["STATE_TABLE"] == cfn.ref("StateTable")
    assert variables["BRIDGE_MAPPING"] == cfn.ref("BridgeMapping")
    assert cfn.load()["Parameters"]["BridgeMapping"]["Default"] == ""
    assert int(variables["MAX_BODY_BYTES"]) > 0
    assert variables["POWERTOOLS_SERVICE_NAME"] == "webhook-bridge"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "WebhookBridge"
    assert variables["LOG_LEVEL"] == cfn.ref("LogLevel")


def test_both_receivers_are_configured_alike_but_for_their_secret() -> None:
    stripe, typeform = (cfn.env(f) for f in cfn.RECEIVERS)
    for own in ("SECRET_ID", "STRIPE_WEBHOOK_SECRET", "STRIPE_SIGNATURE_TOLERANCE_SECONDS"):
        stripe.pop(own)
    for own in ("SECRET_ID", "TYPEFORM_WEBHOOK_SECRET"):
        typeform.pop(own)
    assert stripe == typeform
    assert cfn.env("StripeWebhookFunction")["STRIPE_SIGNATURE_TOLERANCE_SECONDS"] == "300"


def test_functions_share_runtime_layer_and_tracing() -> None:
    for function in cfn.FUNCTIONS:
        properties = cfn.function_props(function)
        assert properties["Runtime"] == "python3.12"
        assert properties["Tracing"] == "Active"
        xray = {"Fn::If": ["XRaySdkOn", cfn.ref("XRaySdkLayer"), cfn.ref("AWS::NoValue")]}
        assert list(properties["Layers"]) == [cfn.ref("SharedLayer"), xray]
    for name in ("SharedLayer", "XRaySdkLayer"):
        layer = cfn.load()["Resources"][name]
        assert layer["Type"] == "AWS::Serverless::LayerVersion"
        assert layer["Properties"]["ContentUri"] == "layers/shared"
        # python3.12 copies ContentUri under python/; a makefile build can copy python/ as it is.
        # SAM's python builder would nest the package at python/python/; the layer's Makefile does not.
        assert layer["Metadata"]["BuildMethod"] == "makefile"


def test_the_xray_sdk_layer_exists_only_when_the_parameter_turns_it_on() -> None:
    assert cfn.load()["Resources"]["XRaySdkLayer"]["Condition"] == "XRaySdkOn"
    assert cfn.load()["Conditions"]["XRaySdkOn"] == {"Fn::Equals": [cfn.ref("XRaySdk"), "true"]}
    assert cfn.load()["Globals"]["Function"]["Environment"]["Variables"]["BRIDGE_XRAY_SDK"] == cfn.ref("XRaySdk")


def test_one_architecture_parameter_drives_functions_and_layer() -> None:
    parameter = cfn.load()["Parameters"]["Architecture"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("arm64", ["arm64", "x86_64"])
    for function in cfn.FUNCTIONS:
        assert list(cfn.function_props(function)["Architectures"]) == [cfn.ref("Architecture")]
    for name in ("SharedLayer", "XRaySdkLayer"):
        layer = cfn.load()["Resources"][name]
        assert list(layer["Properties"]["CompatibleArchitectures"]) == [cfn.ref("Architecture")]
        assert layer["Metadata"]["BuildArchitecture"] == cfn.ref("Architecture")


@pytest.mark.parametrize(("architecture", "platform"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_the_layer_makefile_fetches_wheels_for_the_architecture(architecture: str, platform: str) -> None:
    dry_run = subprocess.run(
        ["make", "--dry-run", "build-SharedLayer", f"ARCHITECTURE={architecture}", "ARTIFACTS_DIR=/out"],
        cwd=cfn.ROOT / "layers" / "shared",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"--platform manylinux2014_{platform} " in dry_run


def test_the_layer_makefile_refuses_an_unknown_architecture() -> None:
    dry_run = subprocess.run(
        ["make", "--dry-run", "build-SharedLayer", "ARCHITECTURE=x86", "ARTIFACTS_DIR=/out"],
        cwd=cfn.ROOT / "layers" / "shared",
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry_run.returncode != 0
    assert "ARCHITECTURE must be arm64 or x86_64" in dry_run.stderr


def test_every_function_declares_an_empty_aws_endpoint_for_local_runs() -> None:
    # SAM passes a function only the variables its template declares.
    for function in cfn.FUNCTIONS:
        assert cfn.env(function)["AWS_ENDPOINT_URL"] == ""


@pytest.mark.parametrize("service", ["sqs", "dynamodb", "secretsmanager"])
def test_boto3_ignores_an_empty_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch, service: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    client = boto3.session.Session(region_name="eu-west-1").client(service)
    assert client.meta.endpoint_url == f"https://{service}.eu-west-1.amazonaws.com"


# -- tables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "ttl"), [("IdempotencyTable", "id", "expiration"), ("StateTable", "pk", "expires_at")]
)
def test_tables(table: str, key: str, ttl: str) -> None:
    properties = cfn.props(table)
    assert cfn.load()["Resources"][table]["Type"] == "AWS::DynamoDB::Table"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert [dict(k) for k in properties["KeySchema"]] == [{"AttributeName": key, "KeyType": "HASH"}]
    assert [dict(a) for a in properties["AttributeDefinitions"]] == [{"AttributeName": key, "AttributeType": "S"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_access_log_format_is_json_with_the_fields_operations_query() -> None:
    settings = cfn.props("WebhookApi")["AccessLogSettings"]
    assert settings["DestinationArn"] == cfn.get_att("ApiAccessLogGroup", "Arn")
    fields = json.loads(settings["Format"])
    assert {"requestId", "routeKey", "status", "latency"} <= set(fields)
