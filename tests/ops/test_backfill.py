"""`bridgectl backfill stripe` / `import stripe` against a local Stripe list API: pagination, 429s, the queue."""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from tests.conftest import FakeAws
from tests.providers.conftest import CURRENT, stripe_event
from tests.stripe_api import API_KEY, StripeApi, stripe_api
from webhook_bridge.ops.backfill import imported_event, stripe_api_key
from webhook_bridge.ops.cli import main as bridgectl
from webhook_bridge.stripe_api import StripeLists
from webhook_bridge.vendors.exceptions import AuthenticationError

SINCE = 1_761_955_200  # 2025-11-01T00:00:00Z


def events(count: int, start: int = SINCE) -> list[dict[str, Any]]:
    template = stripe_event(CURRENT, "customer.created")
    made = []
    for index in range(count):
        event = copy.deepcopy(template)
        event["id"], event["created"] = f"evt_backfill{index:05d}", start + index
        event["data"]["object"]["email"] = f"person{index}@example.com"
        made.append(event)
    return made


def lists(api: StripeApi, sleeps: list[float]) -> StripeLists:
    return StripeLists(API_KEY, api.base_url, sleep=sleeps.append)


def test_events_are_read_page_after_page_from_the_date_on() -> None:
    with stripe_api() as api:
        api.objects["events"] = events(5, start=SINCE - 5) + events(230)
        got = list(lists(api, []).events(SINCE))
    assert [e["id"] for e in got] == [f"evt_backfill{i:05d}" for i in reversed(range(230))]
    assert [q.get("starting_after") for _, q in api.requests] == [None, ["evt_backfill00130"], ["evt_backfill00030"]]
    assert {q["limit"][0] for _, q in api.requests} == {"100"}
    assert {q["created[gte]"][0] for _, q in api.requests} == {str(SINCE)}


def test_a_429_is_waited_out_for_as_long_as_retry_after_says_then_the_page_is_read_again() -> None:
    sleeps: list[float] = []
    with stripe_api(StripeApi(rate_limited=2, retry_after="3")) as api:
        api.objects["events"] = events(150)
        got = list(lists(api, sleeps).events(SINCE))
    assert len(got) == 150 and len({e["id"] for e in got}) == 150
    assert sleeps == [3.0, 3.0]
    assert len(api.requests) == 4  # two refused, then two pages


def test_a_wrong_key_is_an_authentication_error_that_does_not_repeat_the_key() -> None:
    with stripe_api() as api, pytest.raises(AuthenticationError) as caught:
        list(StripeLists("rk_test_not_the_key", api.base_url).customers())
    assert "rk_test_not_the_key" not in str(caught.value)


def test_subscriptions_are_the_non_canceled_ones_with_their_customer_expanded() -> None:
    customer = stripe_event(CURRENT, "customer.created")["data"]["object"]
    subscription = stripe_event(CURRENT, "customer.subscription.updated")["data"]["object"]
    subscription["customer"] = customer["id"]
    canceled = {**subscription, "id": "sub_canceled", "status": "canceled"}
    with stripe_api() as api:
        api.objects.update(customers=[customer], subscriptions=[subscription, canceled])
        (got,) = list(lists(api, []).subscriptions())
    assert got["id"] == subscription["id"] and got["customer"]["email"] == customer["email"]


def test_an_imported_object_keeps_its_id_until_it_changes_and_is_as_new_as_the_read() -> None:
    customer = stripe_event(CURRENT, "customer.created")["data"]["object"]
    first, again = imported_event(customer, 1_800_000_000), imported_event(customer, 1_800_000_500)
    changed = imported_event({**customer, "name": "Someone Else"}, 1_800_000_500)
    assert first["id"] == again["id"] != changed["id"]
    assert first["id"].startswith("evt_import_")
    assert (first["type"], first["created"], first["data"]["object"]) == ("customer.updated", 1_800_000_000, customer)
    subscription = stripe_event(CURRENT, "customer.subscription.updated")["data"]["object"]
    assert imported_event(subscription, 1)["type"] == "customer.subscription.updated"


@pytest.fixture
def stripe_queue(aws: FakeAws) -> str:
    queue, _ = aws.create_queue_pair("bridge-StripeEventsQueue", "bridge-StripeEventsDeadLetterQueue")
    return queue


def run(aws: FakeAws, api: StripeApi, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = bridgectl(["--stack", "bridge", *argv], sqs=aws.sqs, stripe=lists(api, []))
    out, err = capsys.readouterr()
    return code, out, err


def test_backfill_puts_each_event_oldest_first_in_its_eventbridge_envelope_on_the_queue(aws, stripe_queue, capsys):
    with stripe_api() as api:
        api.objects["events"] = events(3, start=SINCE - 10) + events(23)
        code, out, _ = run(aws, api, capsys, "backfill", "stripe", "--since", "2025-11-01")
    assert code == 0
    assert "23  customer.created" in out and "sent 23 event(s) to the stripe-events queue" in out
    bodies = [json.loads(m["Body"]) for m in aws.receive_all(stripe_queue)]
    assert sorted(b["detail"]["created"] for b in bodies) == list(range(SINCE, SINCE + 23))
    assert {(b["detail-type"], b["source"][:23]) for b in bodies} == {("customer.created", "aws.partner/stripe.com/")}
    assert "@example.com" not in out


def test_dry_run_counts_and_sends_nothing(aws, stripe_queue, capsys):
    with stripe_api() as api:
        api.objects["events"] = events(12)
        code, out, _ = run(aws, api, capsys, "backfill", "stripe", "--since", "2025-11-01", "--dry-run")
    assert code == 0 and "would send 12 event(s)" in out
    assert aws.receive_all(stripe_queue) == []


def test_import_sends_customers_then_subscriptions_as_update_events(aws, stripe_queue, capsys):
    customer = stripe_event(CURRENT, "customer.created")["data"]["object"]
    subscription = {
        **stripe_event(CURRENT, "customer.subscription.updated")["data"]["object"],
        "customer": customer["id"],
    }
    with stripe_api() as api:
        api.objects.update(customers=[customer], subscriptions=[subscription])
        code, out, _ = run(aws, api, capsys, "import", "stripe")
    assert code == 0, out
    details = [json.loads(m["Body"])["detail"] for m in aws.receive_all(stripe_queue)]
    assert sorted(d["type"] for d in details) == ["customer.subscription.updated", "customer.updated"]
    (imported,) = [d for d in details if d["type"] == "customer.subscription.updated"]
    assert imported["data"]["object"]["customer"]["id"] == customer["id"]


def test_stripe_refusing_the_key_ends_the_command_with_its_reason_and_nothing_sent(aws, stripe_queue, capsys):
    with stripe_api() as api:
        code = bridgectl(
            ["--stack", "bridge", "import", "stripe"], sqs=aws.sqs, stripe=StripeLists("rk_bad", api.base_url)
        )
    err = capsys.readouterr().err
    assert code == 1 and "stripe: HTTP 401: GET /customers" in err and "rk_bad" not in err
    assert aws.receive_all(stripe_queue) == []


def test_the_queue_refusing_midway_ends_the_command_with_its_code_and_a_rerun_sends_the_rest(aws, stripe_queue, capsys):
    send_batch = aws.sqs.send_message_batch
    calls = []

    def refusing_the_second(**request: Any) -> Any:
        calls.append(request)
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "SendMessageBatch")
        return send_batch(**request)

    with stripe_api() as api:
        api.objects["events"] = events(25)
        with mock.patch.object(aws.sqs, "send_message_batch", side_effect=refusing_the_second):
            code, _, err = run(aws, api, capsys, "backfill", "stripe", "--since", "2025-11-01")
        assert code == 1
        assert "the Stripe events queue refused messages after 10 were sent (AccessDenied)" in err
        assert "Traceback" not in err and "not allowed" not in err
        assert run(aws, api, capsys, "backfill", "stripe", "--since", "2025-11-01")[0] == 0
    ids = [json.loads(m["Body"])["detail"]["id"] for m in aws.receive_all(stripe_queue)]
    # The first ten twice: the consumer deduplicates them on their event id, as it does Stripe's retries.
    assert sorted(set(ids)) == [event["id"] for event in events(25)] and len(ids) == 35


def test_without_the_queue_the_command_says_so(aws, capsys):
    with stripe_api() as api:
        code, _, err = run(aws, api, capsys, "backfill", "stripe", "--since", "2025-11-01")
    assert code == 2 and "no Stripe events queue" in err


class StackSecret:
    """CloudFormation's answer for the stack's StripeApiSecret, and Secrets Manager's for its ARN."""

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:StripeApiSecret-AbCdEf"

    def __init__(self, secret_string: str | None) -> None:
        self.secret_string = secret_string
        self.asked: list[tuple[str, str]] = []

    def __call__(self, service: str) -> StackSecret:
        return self

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        self.asked.append((StackName, LogicalResourceId))
        if self.secret_string is None:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "no such resource"}}, "Describe")
        return {"StackResourceDetail": {"PhysicalResourceId": self.arn}}

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        assert SecretId == self.arn
        return {"SecretString": self.secret_string}


def test_the_key_comes_from_the_environment_first(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_from_env")
    secret = StackSecret('{"STRIPE_API_KEY": "rk_test_from_secret"}')
    assert stripe_api_key("bridge", secret) == "rk_test_from_env" and secret.asked == []


def test_else_from_the_stacks_stripe_api_secret(monkeypatch):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    secret = StackSecret('{"STRIPE_API_KEY": "rk_test_from_secret"}')
    assert stripe_api_key("bridge", secret) == "rk_test_from_secret"
    assert secret.asked == [("bridge", "StripeApiSecret")]
    assert stripe_api_key("bridge", StackSecret('{"STRIPE_API_KEY": ""}')) is None
    assert stripe_api_key("bridge", StackSecret(None)) is None


def test_an_imported_subscription_sets_state_and_tracks_nothing() -> None:
    from webhook_bridge.actions import ActionKind
    from webhook_bridge.mapping_config import MappingContext
    from webhook_bridge.providers.stripe.mapper import map_stripe_event

    webhook = stripe_event(CURRENT, "customer.subscription.updated")
    imported = imported_event(webhook["data"]["object"], webhook["created"] + 60)
    [from_webhook] = map_stripe_event(webhook, MappingContext.in_memory())
    [from_import] = map_stripe_event(imported, MappingContext.in_memory())

    assert from_webhook.event is not None  # the same object, as a webhook, is tracked
    assert (from_import.kind, from_import.identify, from_import.event) == (ActionKind.SUBSCRIPTION, True, None)
    assert from_import.subscription == from_webhook.subscription.model_copy(
        update={"end_date": from_import.subscription.end_date, "canceled_date": from_import.subscription.canceled_date}
    )
    assert from_import.person.traits == from_webhook.person.traits


def test_an_imported_customer_is_identified_without_an_event() -> None:
    from webhook_bridge.actions import ActionKind
    from webhook_bridge.mapping_config import MappingContext
    from webhook_bridge.providers.stripe.mapper import map_stripe_event

    customer = stripe_event(CURRENT, "customer.created")["data"]["object"]
    [action] = map_stripe_event(imported_event(customer, 1_800_000_000), MappingContext.in_memory())
    assert (action.kind, action.identify, action.event) == (ActionKind.IDENTIFY, True, None)
    assert action.person.email == customer["email"].lower()
