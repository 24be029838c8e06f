"""Least privilege: every function reaches only its own queues, secret, logs and the two tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.template import cfn

TABLES = {"IdempotencyTable", "StateTable"}
IDEMPOTENCY_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
# The state table's key prefixes (webhook_bridge.state.dynamodb, webhook_bridge.delivery.ordering).
STATE_KEYS_OF_RECEIVERS = {
    "identity#stripe-customer#*",
    "invoice#stripe#*",
    "invoice-payment#stripe#*",
    "held#stripe-payment#*",
    "held#stripe-invoice#*",
}
# X-Ray has no resource-level permissions; nothing else may use "*".
WILDCARD_ALLOWED = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
# What an SQS event source needs of the queue it consumes.
CONSUMER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
MAIN_QUEUES = {f"{v}Queue" for v in cfn.VENDORS}
SCOPED_SERVICES = ("sqs:", "dynamodb:", "secretsmanager:", "ssm:", "kms:", "logs:", "sns:")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _role_of(function: str) -> str:
    role = cfn.props(function)["Role"]
    assert role == cfn.get_att(role["Fn::GetAtt"][0], "Arn")
    return role["Fn::GetAtt"][0]


def _statements(role: str) -> list[dict[str, Any]]:
    properties = cfn.props(role)
    return [s for policy in properties.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def _grants(function: str) -> dict[str, set[str]]:
    """Action -> logical ids (or "*") it is allowed on."""
    grants: dict[str, set[str]] = defaultdict(set)
    for statement in _statements(_role_of(function)):
        assert statement["Effect"] == "Allow"
        assert not {"NotAction", "NotResource"} & set(statement)
        targets = set()
        for resource in _as_list(statement["Resource"]):
            targets |= {"*"} if resource == "*" else cfn.referenced(resource)
            assert resource == "*" or isinstance(resource, dict), f"{function}: literal resource {resource}"
        for action in _as_list(statement["Action"]):
            grants[action] |= targets
    return grants


def _actions(grants: dict[str, set[str]], service: str) -> set[str]:
    return {action for action in grants if action.startswith(service)}


def _reached(grants: dict[str, set[str]]) -> set[str]:
    """Every logical id the function may act on."""
    return set().union(*grants.values()) - {"*"}


def test_every_function_has_its_own_explicit_role() -> None:
    """SAM would generate roles with AWSLambdaSQSQueueExecutionRole (sqs on "*") for SQS events."""
    functions = cfn.resources("AWS::Serverless::Function")
    assert set(functions) == {*cfn.FUNCTIONS, cfn.EVENTBRIDGE_CONSUMER}
    roles = [_role_of(f) for f in functions]
    assert len(set(roles)) == len(roles)
    for function in functions:
        assert "Policies" not in cfn.function_props(function)
        assert "Role" not in cfn.load().get("Globals", {}).get("Function", {})
    assert set(cfn.resources("AWS::IAM::Role")) == set(roles)
    for role in roles:
        properties = cfn.props(role)
        assert "ManagedPolicyArns" not in properties
        (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("function", cfn.FUNCTIONS)
def test_no_wildcard_actions_or_resources_on_data_services(function: str) -> None:
    for action, targets in _grants(function).items():
        assert "*" not in action, f"{function}: wildcard action {action}"
        if "*" in targets:
            assert action in WILDCARD_ALLOWED, f"{function}: {action} on '*'"
        if action.startswith(SCOPED_SERVICES):
            assert "*" not in targets


@pytest.mark.parametrize("provider", cfn.PROVIDERS)
def test_receiver_reaches_only_its_own_resources(provider: str) -> None:
    function = f"{provider}WebhookFunction"
    grants = _grants(function)
    assert _actions(grants, "sqs:") == {"sqs:SendMessage"}
    assert grants["sqs:SendMessage"] == MAIN_QUEUES
    assert grants["secretsmanager:GetSecretValue"] == {f"{provider}Secret"}
    assert _actions(grants, "secretsmanager:") == {"secretsmanager:GetSecretValue"}
    _assert_logs(function, grants)
    tables = _table_statements(function)
    assert tables["IdempotencyTable"] == (IDEMPOTENCY_ACTIONS, {f"receiver#{cfn.PROVIDERS[provider]}#*"})
    if provider == "Stripe":
        state_actions = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}
        assert tables["StateTable"] == (state_actions, STATE_KEYS_OF_RECEIVERS)
    else:
        assert "StateTable" not in tables  # the Typeform mapping keeps no state
    used_tables = TABLES if provider == "Stripe" else {"IdempotencyTable"}
    assert _reached(grants) == MAIN_QUEUES | used_tables | {f"{provider}Secret", f"{provider}WebhookLogGroup"}


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_delivery_reaches_only_its_own_resources(vendor: str) -> None:
    function = f"{vendor}DeliveryFunction"
    grants = _grants(function)
    queue, dlq = f"{vendor}Queue", f"{vendor}DeadLetterQueue"
    for action in CONSUMER_ACTIONS:
        assert grants[action] == {queue}, action
    assert grants["sqs:SendMessage"] == {queue, dlq}  # re-enqueue a retry, or dead-letter with a reason
    assert _actions(grants, "sqs:") == CONSUMER_ACTIONS | {"sqs:SendMessage"}
    assert grants["secretsmanager:GetSecretValue"] == {f"{vendor}Secret", "StripeApiSecret"}
    assert _actions(grants, "secretsmanager:") == {"secretsmanager:GetSecretValue"}
    _assert_logs(function, grants)
    tables = _table_statements(function)
    name = cfn.VENDORS[vendor]
    assert tables["IdempotencyTable"] == (IDEMPOTENCY_ACTIONS, {f"delivery#{name}#*"})
    state_actions, state_keys = tables["StateTable"]
    assert state_keys == {"order#*", "identity#stripe-customer#*"}
    assert "dynamodb:GetItem" in state_actions and "dynamodb:PutItem" in state_actions
    assert not {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & state_actions
    assert _reached(grants) == {queue, dlq, f"{vendor}Secret", "StripeApiSecret", f"{vendor}DeliveryLogGroup"} | TABLES


def _table_statements(function: str) -> dict[str, tuple[set[str], set[str]]]:
    """Table -> (actions, allowed leading keys): one statement per table, each with its key prefixes."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for statement in _statements(_role_of(function)):
        actions = set(_as_list(statement["Action"]))
        if not any(action.startswith("dynamodb:") for action in actions):
            continue
        (table,) = cfn.referenced(statement["Resource"])
        assert table in TABLES and table not in found, f"{function}: one statement per table"
        assert all(action.startswith("dynamodb:") for action in actions)
        assert not {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem"} & actions
        keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        found[table] = (actions, set(_as_list(keys)))
    return found


def _assert_logs(function: str, grants: dict[str, set[str]]) -> None:
    log_group = cfn.function_props(function)["LoggingConfig"]["LogGroup"]["Ref"]
    assert _actions(grants, "logs:") == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert grants["logs:CreateLogStream"] == grants["logs:PutLogEvents"] == {log_group}
    assert not {a for a in grants if a.startswith(("ssm:", "kms:", "iam:", "lambda:", "s3:"))}


def test_eventbridge_consumer_reaches_its_queue_the_vendor_queues_and_the_stripe_receivers_keys() -> None:
    function = cfn.EVENTBRIDGE_CONSUMER
    grants = _grants(function)
    for action in CONSUMER_ACTIONS:
        assert grants[action] == {"StripeEventsQueue"}, action
    assert grants["sqs:SendMessage"] == MAIN_QUEUES
    assert _actions(grants, "sqs:") == CONSUMER_ACTIONS | {"sqs:SendMessage"}
    assert not _actions(grants, "secretsmanager:")  # no signature, no secret
    log_group = cfn.function_props(function)["LoggingConfig"]["LogGroup"]["Ref"]
    assert grants["logs:CreateLogStream"] == grants["logs:PutLogEvents"] == {log_group}

    # It runs the Stripe receiver's deduplication and mapping: the same table statements, no more.
    def table_statements(receiver: str) -> list[dict[str, Any]]:
        return [s for s in _statements(_role_of(receiver)) if str(_as_list(s["Action"])[0]).startswith("dynamodb:")]

    assert table_statements(function) == table_statements("StripeWebhookFunction")
    assert _reached(grants) == MAIN_QUEUES | TABLES | {"StripeEventsQueue", log_group}
