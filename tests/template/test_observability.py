"""Logs, alarms, the dashboard and the outputs operations rely on (docs/operations.md)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template import cfn
from webhook_bridge import observability

ALARM_TOPIC_ACTIONS = {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}


# -- logs ----------------------------------------------------------------------------


@pytest.mark.parametrize("function", cfn.FUNCTIONS)
def test_every_function_logs_to_its_own_group_with_retention(function: str) -> None:
    group = cfn.function_props(function)["LoggingConfig"]["LogGroup"]["Ref"]
    assert cfn.load()["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
    assert cfn.props(group)["RetentionInDays"] == cfn.ref("LogRetentionDays")


def test_log_groups_are_one_per_function_plus_api_access() -> None:
    functions = (*cfn.FUNCTIONS, cfn.EVENTBRIDGE_CONSUMER)
    groups = {cfn.function_props(f)["LoggingConfig"]["LogGroup"]["Ref"] for f in functions}
    assert len(groups) == len(functions)
    assert set(cfn.resources("AWS::Logs::LogGroup")) == groups | {"ApiAccessLogGroup"}
    assert cfn.props("ApiAccessLogGroup")["RetentionInDays"] == cfn.ref("LogRetentionDays")
    assert cfn.load()["Parameters"]["LogRetentionDays"]["Default"] == 30


# -- alarms ----------------------------------------------------------------------------


def _alarms() -> dict[str, dict[str, Any]]:
    return {lid: cfn.props(lid) for lid in cfn.resources("AWS::CloudWatch::Alarm")}


def _alarm(namespace: str, metric: str, **dimensions: Any) -> dict[str, Any]:
    """The one alarm on ``metric`` with exactly ``dimensions``; the bridge's own metrics carry ``service`` too."""
    if namespace == observability.NAMESPACE:
        dimensions = {"service": observability.SERVICE, **dimensions}
    (alarm,) = [
        a
        for a in _alarms().values()
        if (a.get("Namespace"), a.get("MetricName")) == (namespace, metric)
        and {d["Name"]: d["Value"] for d in a["Dimensions"]} == dimensions
    ]
    return alarm


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_any_message_in_a_dlq_raises_an_alarm(vendor: str) -> None:
    queue_name = cfn.get_att(f"{vendor}DeadLetterQueue", "QueueName")
    alarm = _alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue_name)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and float(alarm["Threshold"]) == 0
    assert alarm["Statistic"] == "Maximum"


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_a_stuck_queue_raises_an_alarm(vendor: str) -> None:
    queue_name = cfn.get_att(f"{vendor}Queue", "QueueName")
    alarm = _alarm("AWS/SQS", "ApproximateAgeOfOldestMessage", QueueName=queue_name)
    assert alarm["Threshold"] == cfn.ref("QueueAgeAlarmThresholdSeconds")
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert cfn.load()["Parameters"]["QueueAgeAlarmThresholdSeconds"]["Default"] == 3600


def test_webhook_5xx_raises_an_alarm() -> None:
    alarm = _alarm("AWS/ApiGateway", "5xx", ApiId=cfn.ref("WebhookApi"))
    assert alarm["Statistic"] == "Sum" and float(alarm["Threshold"]) == 0


@pytest.mark.parametrize("vendor", cfn.VENDORS)
def test_delivery_errors_raise_an_alarm(vendor: str) -> None:
    alarm = _alarm("AWS/Lambda", "Errors", FunctionName=cfn.ref(f"{vendor}DeliveryFunction"))
    assert alarm["Statistic"] == "Sum" and float(alarm["Threshold"]) == 0


@pytest.mark.parametrize("provider", cfn.PROVIDERS.values())
def test_refused_webhooks_raise_alarms(provider: str) -> None:
    # The receivers count refusals with exactly these dimensions (receiver/logic.py).
    signature = _alarm(observability.NAMESPACE, "WebhookRefused", provider=provider, reason="signature")
    assert (signature["Statistic"], signature["ComparisonOperator"]) == ("Sum", "GreaterThanOrEqualToThreshold")
    assert 1 <= float(signature["Threshold"]) <= 10 and int(signature["Period"]) <= 900
    missing = _alarm(observability.NAMESPACE, "WebhookRefused", provider=provider, reason="missing_secret")
    assert (missing["ComparisonOperator"], float(missing["Threshold"])) == ("GreaterThanThreshold", 0)


@pytest.mark.parametrize("vendor", cfn.VENDORS.values())
def test_a_vendor_refusing_our_keys_raises_an_alarm(vendor: str) -> None:
    alarm = _alarm(observability.NAMESPACE, "AuthFailed", vendor=vendor)
    assert (alarm["Statistic"], alarm["ComparisonOperator"], float(alarm["Threshold"])) == (
        "Sum",
        "GreaterThanThreshold",
        0,
    )


@pytest.mark.parametrize("vendor", cfn.VENDORS.values())
def test_sustained_retries_or_throttling_raise_an_alarm(vendor: str) -> None:
    (alarm,) = [a for a in _alarms().values() if f"-{vendor}-retrying" in json.dumps(a["AlarmName"])]
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    for metric in ("Retried", "Throttled"):
        (stat,) = [s for s in stats.values() if s["Metric"]["MetricName"] == metric]
        dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
        assert dimensions == {"service": observability.SERVICE, "vendor": vendor}
        assert stat["Metric"]["Namespace"] == observability.NAMESPACE
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert all(f"FILL({metric_id}, 0)" in expression for metric_id in stats)
    # Sustained: hours, not one bad minute; each retry hop being a new message, queue age cannot see this.
    hours = int(alarm["DatapointsToAlarm"]) * int(next(iter(stats.values()))["Period"]) / 3600
    assert 2 <= hours <= 6


def test_every_alarm_notifies_the_optional_topic() -> None:
    for lid, alarm in _alarms().items():
        assert alarm["AlarmActions"] == ALARM_TOPIC_ACTIONS, lid
        assert alarm["OKActions"] == ALARM_TOPIC_ACTIONS, lid
        assert alarm["TreatMissingData"] == "notBreaching", lid
        assert "docs/operations.md" in alarm["AlarmDescription"], lid
    topic = cfn.load()["Resources"]["AlarmTopic"]
    assert topic["Condition"] == "HasAlarmEmail"
    assert [dict(s) for s in topic["Properties"]["Subscription"]] == [
        {"Protocol": "email", "Endpoint": cfn.ref("AlarmEmail")}
    ]
    assert cfn.Evaluator({}).condition("HasAlarmEmail") is False
    assert cfn.Evaluator({"AlarmEmail": "ops@example.com"}).condition("HasAlarmEmail") is True


# -- dashboard ---------------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    body = cfn.props("Dashboard")["DashboardBody"]["Fn::Sub"]
    known = set(cfn.load()["Resources"]) | set(cfn.load()["Parameters"])

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name.startswith("AWS::") or name.split(".")[0] in known, f"dashboard names unknown {name}"
        return "3600" if name == "QueueAgeAlarmThresholdSeconds" else f"<{name}>"

    return json.loads(re.sub(r"\$\{([^}]+)\}", placeholder, body))


def _metrics() -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    found = set()
    for widget in _dashboard()["widgets"]:
        for line in widget["properties"].get("metrics", []):
            names = [item for item in line if isinstance(item, str)]
            namespace, metric, *dimensions = names
            found.add((namespace, metric, frozenset(zip(dimensions[::2], dimensions[1::2], strict=True))))
    return found


def _custom(metric: str, **dimensions: str) -> tuple[str, str, frozenset[tuple[str, str]]]:
    dims = {"service": observability.SERVICE, **dimensions}
    return (observability.NAMESPACE, metric, frozenset(dims.items()))


@pytest.mark.parametrize("provider", cfn.PROVIDERS.values())
@pytest.mark.parametrize("metric", ["WebhookReceived", "WebhookIgnored", "WebhookRefused"])
def test_dashboard_shows_webhooks_per_provider(provider: str, metric: str) -> None:
    assert _custom(metric, provider=provider) in _metrics()


@pytest.mark.parametrize("vendor", cfn.VENDORS.values())
@pytest.mark.parametrize("metric", ["Delivered", "Retried", "Throttled", "DeadLettered", "DeliveryLatency"])
def test_dashboard_shows_deliveries_per_vendor(vendor: str, metric: str) -> None:
    assert _custom(metric, vendor=vendor) in _metrics()


def test_dashboard_shows_queues_functions_and_api() -> None:
    metrics = _metrics()
    for vendor in cfn.VENDORS:
        queue, dlq = f"<{vendor}Queue.QueueName>", f"<{vendor}DeadLetterQueue.QueueName>"
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", frozenset({("QueueName", queue)})) in metrics
        assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", frozenset({("QueueName", queue)})) in metrics
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", frozenset({("QueueName", dlq)})) in metrics
    for function in cfn.FUNCTIONS:
        for metric in ("Errors", "Duration", "Throttles"):
            assert ("AWS/Lambda", metric, frozenset({("FunctionName", f"<{function}>")})) in metrics
    for metric in ("4xx", "5xx", "Latency"):
        assert ("AWS/ApiGateway", metric, frozenset({("ApiId", "<WebhookApi>")})) in metrics


def test_dashboard_lists_every_alarm_and_widgets_do_not_overlap() -> None:
    widgets = _dashboard()["widgets"]
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    unconditional = {a for a in _alarms() if "Condition" not in cfn.resources()[a]}
    assert set(alarm_widget["properties"]["alarms"]) == {f"<{a}.Arn>" for a in unconditional}
    cells: set[tuple[int, int]] = set()
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        area = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not cells & area, widget.get("properties", {}).get("title")
        cells |= area


# -- outputs --------------------------------------------------------------------------------


def test_outputs() -> None:
    outputs = cfn.load()["Outputs"]
    for provider, route in cfn.ROUTES.items():
        url = outputs[f"{provider}WebhookUrl"]["Value"]["Fn::Sub"]
        assert url.startswith("https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
        assert url.endswith(route)
    for vendor in cfn.VENDORS:
        assert outputs[f"{vendor}QueueUrl"]["Value"] == cfn.ref(f"{vendor}Queue")
        assert outputs[f"{vendor}DeadLetterQueueUrl"]["Value"] == cfn.ref(f"{vendor}DeadLetterQueue")
    assert outputs["IdempotencyTableName"]["Value"] == cfn.ref("IdempotencyTable")
    assert outputs["StateTableName"]["Value"] == cfn.ref("StateTable")
    assert "#dashboards:name=${Dashboard}" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    for owner in (*cfn.PROVIDERS, *cfn.VENDORS):
        assert outputs[f"{owner}SecretArn"]["Value"] == cfn.ref(f"{owner}Secret")
