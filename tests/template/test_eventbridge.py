"""Stripe through Amazon EventBridge: off unless StripeEventSourceName is given, then wired end to end."""

from __future__ import annotations

import re

from tests.template import cfn

# The queue and its consumer stay without the bus: `bridgectl backfill` and `import` feed them.
EVENTBRIDGE_RESOURCES = {"StripePartnerEventBus", "StripeEventsRule", "StripeEventsQueuePolicy"}


def test_the_parameter_is_off_by_default_and_takes_only_a_stripe_partner_source() -> None:
    parameter = cfn.load()["Parameters"]["StripeEventSourceName"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("aws.partner/stripe.com/ed_61Tw6AOzu6iJQhjyn16Tw5y8SfCQ")
    assert not pattern.fullmatch("aws.partner/example.com/ed_1")
    condition = cfn.load()["Conditions"]["StripeEventBridgeEnabled"]
    assert condition == {"Fn::Not": [{"Fn::Equals": [cfn.ref("StripeEventSourceName"), ""]}]}


def test_only_the_bus_its_rule_and_their_queue_policy_need_the_parameter() -> None:
    gated = {lid for lid, r in cfn.resources().items() if r.get("Condition") == "StripeEventBridgeEnabled"}
    assert gated == EVENTBRIDGE_RESOURCES


def test_the_stack_creates_the_partner_bus_which_associates_the_source() -> None:
    bus = cfn.props("StripePartnerEventBus")
    assert bus["Name"] == bus["EventSourceName"] == cfn.ref("StripeEventSourceName")


def test_the_rule_sends_stripe_events_to_the_queue_with_a_dead_letter_queue() -> None:
    rule = cfn.props("StripeEventsRule")
    assert rule["EventBusName"] == cfn.ref("StripePartnerEventBus")
    assert rule["EventPattern"] == {"source": [{"prefix": "aws.partner/stripe.com/"}]}
    (target,) = rule["Targets"]
    assert target["Arn"] == cfn.get_att("StripeEventsQueue", "Arn")
    assert target["DeadLetterConfig"]["Arn"] == cfn.get_att("StripeEventsDeadLetterQueue", "Arn")


def test_only_the_rule_may_send_to_the_queues() -> None:
    (statement,) = cfn.props("StripeEventsQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": cfn.get_att("StripeEventsRule", "Arn")}}


def test_the_consumer_drains_the_queue_into_the_vendor_queues_like_the_stripe_receiver() -> None:
    properties = cfn.function_props(cfn.EVENTBRIDGE_CONSUMER)
    ((_, event),) = properties["Events"].items()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == cfn.get_att("StripeEventsQueue", "Arn")
    assert list(event["Properties"]["FunctionResponseTypes"]) == ["ReportBatchItemFailures"]
    queue = cfn.props("StripeEventsQueue")
    assert int(queue["VisibilityTimeout"]) >= 6 * int(properties["Timeout"])
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == cfn.get_att("StripeEventsDeadLetterQueue", "Arn")
    receiver = cfn.env("StripeWebhookFunction")
    consumer = cfn.env(cfn.EVENTBRIDGE_CONSUMER)
    signature_only = {"SECRET_ID", "STRIPE_WEBHOOK_SECRET", "STRIPE_SIGNATURE_TOLERANCE_SECONDS", "MAX_BODY_BYTES"}
    assert consumer == {k: v for k, v in receiver.items() if k not in signature_only}
