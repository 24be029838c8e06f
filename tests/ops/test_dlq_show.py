"""`bridgectl dlq show`: what a dead letter holds, with no personal data, in either output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.canary import EMAIL, NAME, PHONE, STREET, stripe_customer_created, telltales_in, typeform_response
from tests.conftest import FakeAws
from webhook_bridge.delivery.queue_ops import FailureReport, QueueOps
from webhook_bridge.delivery.retry_state import RetryState
from webhook_bridge.mapping_config import MappingConfig, MappingContext
from webhook_bridge.ops.cli import main as bridgectl
from webhook_bridge.receiver.eventbridge import envelope_for
from webhook_bridge.receiver.logic import vendor_messages
from webhook_bridge.receiver.mapping import ProviderMapping
from webhook_bridge.receiver.providers import PROVIDERS
from webhook_bridge.vendors.catalog import Vendor

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stripe" / "2025-09-30.clover"


def show(aws: FakeAws, capsys: pytest.CaptureFixture[str], name: str, *argv: str) -> str:
    capsys.readouterr()
    assert bridgectl(["--stack", "bridge", "dlq", "show", name, *argv], sqs=aws.sqs) == 0
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize("provider", ["typeform", "stripe"])
def test_a_dead_lettered_action_is_shown_without_the_persons_answers_or_details(aws, capsys, provider):
    payload = typeform_response() if provider == "typeform" else stripe_customer_created()
    mapping = ProviderMapping(PROVIDERS[provider].mapper(), MappingContext.in_memory(MappingConfig.from_json(None)))
    _, messages = vendor_messages(mapping, (Vendor("loops"),), payload)
    queue, dead = aws.create_queue_pair("bridge-LoopsQueue", "bridge-LoopsDeadLetterQueue")
    for message in messages:
        QueueOps(queue, dead, aws.sqs).dead_letter(
            message.model_dump_json(), RetryState(), FailureReport("BadRequestError (HTTP 400)", "BadRequestError", 400)
        )
    assert telltales_in([m.model_dump_json() for m in messages])  # the messages do carry them
    shown = show(aws, capsys, "loops", "--json")
    (letter,) = [json.loads(line) for line in shown.splitlines()]
    assert letter["action_id"] == messages[0].action.id and letter["body"]["action"]["person"]["traits"]
    assert telltales_in(shown, show(aws, capsys, "loops")) == []


def test_a_dead_lettered_stripe_event_is_shown_without_addresses_phones_or_metadata(aws, capsys):
    _, dead = aws.create_queue_pair("bridge-StripeEventsQueue", "bridge-StripeEventsDeadLetterQueue")
    aws.sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(envelope_for(stripe_customer_created())))
    shown = show(aws, capsys, "stripe-events", "--json")
    assert json.loads(shown)["body"]["detail"]["data"]["object"]["id"] == "cus_PersonalDataTest"
    assert telltales_in(shown) == []


def _with_canary(path: str, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    event["data"]["object"].update(fields)
    return event


@pytest.mark.parametrize(
    "event",
    [
        _with_canary(
            "invoice.paid.json",
            customer_email=EMAIL,
            customer_name=NAME,
            customer_phone=PHONE,
            customer_address={"line1": STREET, "city": "Canaryville", "postal_code": "99999"},
        ),
        _with_canary(
            "checkout.session.completed.json",
            customer_details={"email": EMAIL, "name": NAME, "phone": PHONE, "address": {"line1": STREET}},
        ),
    ],
    ids=["invoice.paid", "checkout.session.completed"],
)
def test_stripe_fields_named_for_the_customer_are_masked_in_a_dead_letter(aws, capsys, event):
    # Stripe names them customer_name, customer_phone, customer_address: not the bare keys.
    _, dead = aws.create_queue_pair("bridge-StripeEventsQueue", "bridge-StripeEventsDeadLetterQueue")
    aws.sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(envelope_for(event)))
    shown = show(aws, capsys, "stripe-events", "--json")
    assert json.loads(shown)["body"]["detail"]["id"] == event["id"]
    assert telltales_in(shown, show(aws, capsys, "stripe-events")) == []
