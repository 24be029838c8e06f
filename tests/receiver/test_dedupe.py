"""A provider's retries are deduplicated on its event id: the first answer is replayed, each
replay is counted for ``bridgectl trace``, and the records stay under the receiver's own keys."""

from __future__ import annotations

from typing import Any

import boto3

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, FakeAws
from webhook_bridge.delivery_log import DeliveryLog
from webhook_bridge.receiver.dedupe import EventDeduplicator


class Work:
    """The receiver's map-and-publish, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        return {"status": "accepted", "actions": 1, "messages": self.runs}


def deduplicator(provider: str, client: Any, log: DeliveryLog | None = None) -> EventDeduplicator:
    dedupe = EventDeduplicator(IDEMPOTENCY_TABLE, 3600, provider, client, log)
    dedupe.register_lambda_context(LambdaContext())
    return dedupe


def record_ids(client: Any) -> list[str]:
    return sorted(item["id"]["S"] for item in client.scan(TableName=IDEMPOTENCY_TABLE)["Items"])


def test_a_retried_event_gets_the_first_answer_and_each_copy_is_counted(aws: FakeAws):
    log = DeliveryLog(IDEMPOTENCY_TABLE, aws.dynamodb)
    dedupe = deduplicator("stripe", aws.dynamodb, log)
    work = Work()
    first = {"status": "accepted", "actions": 1, "messages": 1}
    assert dedupe("evt_1", work) == first
    assert log.read("stripe", "evt_1", []) == {}  # the first copy is no duplicate
    assert [dedupe("evt_1", work), dedupe("evt_1", work)] == [first, first]
    assert work.runs == 1
    assert log.read("stripe", "evt_1", [])["receiver"]["duplicates"] == 2


def test_the_same_id_from_two_providers_is_two_events_each_under_its_receivers_keys(aws: FakeAws):
    """Each receiver may write only keys starting ``receiver#<provider>#`` (template.yaml's LeadingKeys)."""
    works = {provider: Work() for provider in ("stripe", "typeform")}
    for provider, work in works.items():
        deduplicator(provider, aws.dynamodb)("E1", work)
    assert {provider: work.runs for provider, work in works.items()} == {"stripe": 1, "typeform": 1}
    prefixes = [key.split("#")[:2] for key in record_ids(aws.dynamodb)]
    assert prefixes == [["receiver", "stripe"], ["receiver", "typeform"]]


def test_records_go_through_the_client_it_is_given(aws: FakeAws):
    """The function's one DynamoDB client, with its region and endpoint, not a default one."""
    elsewhere = boto3.client("dynamodb", region_name="eu-west-1")
    elsewhere.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    deduplicator("stripe", elsewhere)("evt_1", Work())
    assert (len(record_ids(elsewhere)), record_ids(aws.dynamodb)) == (1, [])
