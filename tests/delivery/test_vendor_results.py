"""What an adapter reports beyond success reaches the metrics: the vendor had already done
it (Loops' 409 on a reused Idempotency-Key), or there was nothing to send."""

from __future__ import annotations

import pytest

from devstack.support.lambda_context import LambdaContext
from tests.conftest import IDEMPOTENCY_TABLE, FakeAws
from tests.delivery.test_processor import make_message
from webhook_bridge.delivery.once import IdempotentDelivery
from webhook_bridge.vendors.results import DeliveryResult


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (DeliveryResult("loops", calls=["POST /events/send"], duplicate=True), ["VendorDuplicate"]),
        (DeliveryResult("loops", skipped="nothing to identify or track"), ["NothingToSend"]),
        (DeliveryResult("loops", calls=["PUT /contacts/update"]), []),
    ],
    ids=["vendor-duplicate", "nothing-to-send", "plain-delivery"],
)
def test_the_adapters_result_is_counted_once(aws: FakeAws, counted: list[str], result, expected) -> None:
    deliver = IdempotentDelivery(lambda message: result, IDEMPOTENCY_TABLE, 3600, aws.dynamodb)
    deliver.register_lambda_context(LambdaContext())
    message = make_message()
    assert deliver(message) is True
    assert deliver(message) is False  # a replay of our own record: the vendor is not asked again
    assert counted == expected
