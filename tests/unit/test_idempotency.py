"""``idempotency.record_id`` names the record powertools writes, so readers find it without a log."""

from __future__ import annotations

import pytest

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, FakeAws
from webhook_bridge.idempotency import RECORD_COMPLETED, RunOnce, record_id


@pytest.mark.parametrize("key", ["loops:stripe:evt_1:0", "customerio:typeform:tok-ü:3#sync:cus_1@2"])
def test_record_id_is_the_key_of_the_record_powertools_completes(aws: FakeAws, key: str) -> None:
    run_once = RunOnce(IDEMPOTENCY_TABLE, 3600, "delivery#loops", aws.dynamodb)
    run_once.register_lambda_context(LambdaContext())

    assert run_once(key, lambda: {"delivered_at": 12.5}) == ({"delivered_at": 12.5}, True)

    item = aws.dynamodb.get_item(TableName=IDEMPOTENCY_TABLE, Key={"id": {"S": record_id("delivery#loops", key)}})
    assert item["Item"]["status"]["S"] == RECORD_COMPLETED
    assert aws.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Count"] == 1


def test_record_ids_differ_by_prefix_and_by_key() -> None:
    ids = {record_id(prefix, key) for prefix in ("delivery#loops", "delivery#customerio") for key in ("a:1", "a:2")}
    assert len(ids) == 4
    assert all(i.startswith(("delivery#loops#", "delivery#customerio#")) for i in ids)
