"""The template model: what the local stack reads from template.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.intrinsics import NO_VALUE, PhysicalResource, Resolver
from devstack.template import Template, TemplateError, load_template
from webhook_bridge.vendors.catalog import VendorSpec, specs

from .conftest import FIXTURE_TEMPLATE, REAL_TEMPLATE


@pytest.fixture(scope="module")
def fixture() -> Template:
    return load_template(FIXTURE_TEMPLATE)


def test_routes_come_from_http_api_events(fixture: Template) -> None:
    routes = {r.route_key: r for r in fixture.routes}
    assert set(routes) == {"POST /webhooks/stripe", "POST /webhooks/typeform"}  # "post" is upper-cased
    assert routes["POST /webhooks/stripe"].function == "StripeWebhookFunction"
    assert routes["POST /webhooks/stripe"].api_id == fixture.physical_resources()["WebhookApi"].ref
    assert routes["POST /webhooks/stripe"].timeout_ms == 30_000


def test_functions_merge_globals(fixture: Template) -> None:
    stripe = fixture.functions["StripeWebhookFunction"]
    assert stripe.code_dir == FIXTURE_TEMPLATE.parent / "functions" / "stripe_webhook"
    assert stripe.handler == "app.lambda_handler"
    assert stripe.timeout_seconds == 10 and stripe.memory_mb == 256  # from Globals
    assert fixture.functions["TypeformWebhookFunction"].timeout_seconds == 5  # function wins
    assert stripe.layer_dirs == (FIXTURE_TEMPLATE.parent / "layers" / "shared",)
    assert stripe.name == "webhook-bridge-StripeWebhookFunction"


def test_environment_resolves_intrinsics(fixture: Template) -> None:
    env = fixture.environment("StripeWebhookFunction")
    assert env["POWERTOOLS_SERVICE_NAME"] == "webhook-bridge"  # Globals
    assert env["IDEMPOTENCY_TABLE"] == "webhook-bridge-IdempotencyTable"  # !Ref table → name
    assert env["CONVERTLOOP_QUEUE_URL"].endswith("/123456789012/webhook-bridge-ConvertLoopQueue")  # !Ref queue → URL
    assert env["LOOPS_QUEUE_URL"].endswith("/webhook-bridge-loops")  # QueueName: !Sub
    assert env["SEGMETRICS_QUEUE_URL"].endswith("SegMetricsQueue")  # !If true branch
    assert env["SECRET_ID"] == "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook-bridge/webhooks"
    loops = fixture.environment("LoopsDeliveryFunction")
    assert loops["VENDOR_RATE_LIMIT"] == "10"  # Number parameter default, as a string
    convertloop = fixture.environment("ConvertLoopDeliveryFunction")
    assert convertloop["QUEUE_ARN"] == "arn:aws:sqs:us-east-1:123456789012:webhook-bridge-ConvertLoopQueue"  # !Join


def test_environment_uses_local_physical_values(fixture: Template) -> None:
    local = PhysicalResource("http://127.0.0.1:5000/123456789012/q", {"Arn": "arn:aws:sqs:us-east-1:123456789012:q"})
    api = PhysicalResource("abc", {"ApiEndpoint": "http://127.0.0.1:3000"})
    env = fixture.environment(
        "StripeWebhookFunction", fixture.physical_resources({"ConvertLoopQueue": local, "WebhookApi": api})
    )
    assert env["CONVERTLOOP_QUEUE_URL"] == "http://127.0.0.1:5000/123456789012/q"
    assert env["API_URL"] == "http://127.0.0.1:3000"


def test_conditions_remove_resources_and_values() -> None:
    template = load_template(FIXTURE_TEMPLATE, parameter_overrides={"EnableSegMetrics": "false"})
    assert "SegMetricsDeliveryFunction" not in template.functions
    assert "SegMetricsQueue" not in template.queues
    assert "SEGMETRICS_QUEUE_URL" not in template.environment("StripeWebhookFunction")  # !If → AWS::NoValue
    assert all(s.queue != "SegMetricsQueue" for s in template.event_sources)


def test_sqs_event_sources(fixture: Template) -> None:
    sources = {s.function: s for s in fixture.event_sources}
    convertloop = sources["ConvertLoopDeliveryFunction"]
    assert convertloop.queue == "ConvertLoopQueue"
    assert (convertloop.batch_size, convertloop.batching_window_seconds, convertloop.maximum_concurrency) == (5, 1, 2)
    assert convertloop.report_batch_item_failures
    segmetrics = sources["SegMetricsDeliveryFunction"]  # AWS defaults when left out
    assert (segmetrics.batch_size, segmetrics.batching_window_seconds, segmetrics.maximum_concurrency) == (10, 0, None)
    assert not segmetrics.report_batch_item_failures


def test_queues_and_redrive(fixture: Template) -> None:
    queue = fixture.queues["ConvertLoopQueue"]
    assert queue.visibility_timeout == 360
    assert (queue.dead_letter_queue, queue.max_receive_count) == ("ConvertLoopDeadLetterQueue", 5)
    assert fixture.queues["ConvertLoopDeadLetterQueue"].message_retention_seconds == 1_209_600
    assert fixture.queues["LoopsQueue"].name == "webhook-bridge-loops"
    assert fixture.queues["LoopsQueue"].dead_letter_queue == "LoopsDeadLetterQueue"


def test_queue_overrides_for_fast_tests(fixture: Template) -> None:
    fast = fixture.with_queue_overrides(visibility_timeout=1, max_receive_count=2)
    assert fast.queues["ConvertLoopQueue"].visibility_timeout == 1
    assert fast.queues["ConvertLoopQueue"].max_receive_count == 2
    assert fast.queues["ConvertLoopDeadLetterQueue"].max_receive_count is None
    assert fixture.queues["ConvertLoopQueue"].visibility_timeout == 360  # the original is untouched


@pytest.mark.parametrize("path", [FIXTURE_TEMPLATE, REAL_TEMPLATE], ids=["fixture", "project"])
def test_tables(path: Path) -> None:
    tables = load_template(path).tables
    idempotency, state = tables["IdempotencyTable"], tables["StateTable"]
    assert (idempotency.partition_key, idempotency.ttl_attribute) == ("id", "expiration")
    assert (state.partition_key, state.ttl_attribute) == ("pk", "expires_at")


def test_unknown_parameter_override_is_an_error() -> None:
    with pytest.raises(TemplateError, match="Nope"):
        load_template(FIXTURE_TEMPLATE, parameter_overrides={"Nope": "1"})


FUNCTION = """
  Api:
    Type: AWS::Serverless::HttpApi
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Handler: app.handler
      Events:
        Event:
"""
HTTP_EVENT = "          Type: HttpApi\n          Properties: {ApiId: !Ref Api, Path: /x, Method: POST"
TABLE = """
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
"""


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        (FUNCTION + HTTP_EVENT + ', PayloadFormatVersion: "1.0"}', r"2\.0 only"),
        (FUNCTION + "          Type: HttpApi\n", "ApiId must name an HttpApi"),
        (FUNCTION + HTTP_EVENT.replace("/x", '"/items/{id}"') + "}", "literal Path"),
        (FUNCTION + "          Type: Schedule\n          Properties: {Schedule: rate(1 day)}", "Schedule events"),
        (FUNCTION + HTTP_EVENT + "}\n  Ghost:\n    Type: AWS::Lambda::Function", "not run locally"),
        (FUNCTION + HTTP_EVENT + ", Timeout: !Select [0, [1]]}", "Fn::Select is not supported"),
        (TABLE, "PAY_PER_REQUEST"),
        (TABLE + "      BillingMode: PAY_PER_REQUEST\n      StreamSpecification: {}", "StreamSpecification"),
        ("\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {FifoQueue: true}", "FifoQueue"),
    ],
    ids=[
        "payload-1.0",
        "no-api",
        "path-parameter",
        "schedule",
        "plain-lambda",
        "select",
        "provisioned",
        "stream",
        "fifo",
    ],
)
def test_what_the_local_stack_would_run_differently_is_refused(tmp_path: Path, resources: str, problem: str) -> None:
    (tmp_path / "template.yaml").write_text("Resources:" + resources + "\n")
    with pytest.raises(TemplateError, match=problem):
        load_template(tmp_path / "template.yaml")


def test_resolver_functions() -> None:
    resolver = Resolver(
        parameters={"Env": "dev"},
        pseudo={"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"},
        resources={"Q": PhysicalResource("https://q", {"Arn": "arn:q"})},
        mappings={"M": {"dev": {"size": 3}}},
        conditions={"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}, "NotDev": {"Fn::Not": [{"Condition": "IsDev"}]}},
    )
    assert resolver.resolve({"Fn::Sub": "${Env}-${Q.Arn}-${!Literal}"}) == "dev-arn:q-${Literal}"
    assert resolver.resolve({"Fn::Sub": ["${X}/${AWS::Region}", {"X": {"Ref": "Q"}}]}) == "https://q/us-east-1"
    assert resolver.resolve({"Fn::FindInMap": ["M", {"Ref": "Env"}, "size"]}) == 3
    assert resolver.resolve({"Fn::If": ["NotDev", "x", {"Ref": "AWS::NoValue"}]}) is NO_VALUE
    assert resolver.resolve([1, {"Ref": "AWS::NoValue"}, 2]) == [1, 2]
    assert resolver.resolve({"Fn::Join": ["-", [True, 1, "a"]]}) == "true-1-a"
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "other-stack-export"})


# -- the project's template ---------------------------------------------------------------


@pytest.fixture(scope="module")
def project_template() -> Template:
    return load_template(REAL_TEMPLATE)


def test_real_template_routes(project_template: Template) -> None:
    routes = {r.route_key: r.function for r in project_template.routes}
    assert routes["POST /webhooks/stripe"] == "StripeWebhookFunction"
    assert routes["POST /webhooks/typeform"] == "TypeformWebhookFunction"
    for function in routes.values():
        spec = project_template.functions[function]
        assert spec.handler == "app.lambda_handler"
        assert (spec.code_dir / "app.py").parent.is_dir()


@pytest.mark.parametrize("vendor", specs(), ids=lambda spec: spec.name)
def test_real_template_delivery_wiring(project_template: Template, vendor: VendorSpec) -> None:
    function, queue, dlq = (f"{vendor.logical_id}{kind}" for kind in ("DeliveryFunction", "Queue", "DeadLetterQueue"))
    (source,) = (s for s in project_template.event_sources if s.function == function)
    assert project_template.delivery_source(vendor.name) == source
    assert source.queue == queue
    assert source.report_batch_item_failures
    assert project_template.queues[queue].dead_letter_queue == dlq
    assert project_template.queues[queue].max_receive_count
    env = project_template.environment(function)
    assert env["VENDOR"] == vendor.name
    assert env["QUEUE_URL"].endswith("/" + project_template.queues[queue].name)
    assert env["DLQ_URL"].endswith("/" + project_template.queues[dlq].name)


def test_real_template_environment_fully_resolves(project_template: Template) -> None:
    for function in project_template.functions:
        env = project_template.environment(function)
        assert all(isinstance(value, str) for value in env.values())
        assert not any(value.startswith("{") and "Ref" in value for value in env.values()), env
