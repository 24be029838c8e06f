"""Exactly once per (vendor, action): ``idempotency.RunOnce`` around the vendor call.

The record is completed only after the vendor accepted the call; a failure deletes it
so the retry calls again. Loops' Idempotency-Key and Customer.io's event id cover the
gap between a vendor's success and our record (e.g. the function dying in between).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from webhook_bridge.actions import VendorMessage
from webhook_bridge.delivery.processor import AlreadyInProgress
from webhook_bridge.delivery_log import DELIVERED_AT, DeliveryLog
from webhook_bridge.idempotency import RunOnce
from webhook_bridge.observability import metrics
from webhook_bridge.vendors.results import DeliveryResult

# What the adapter reports (None from a call that reports nothing, e.g. a test double).
VendorCall = Callable[[VendorMessage], DeliveryResult | None]


class IdempotentDelivery:
    """``deliver(message) -> bool``: True when the vendor was called, False for a replay."""

    def __init__(
        self,
        call: VendorCall,
        table_name: str,
        ttl_seconds: int,
        client: Any | None = None,
        key_prefix: str = "delivery",
    ) -> None:
        self._call = call
        self._run_once = RunOnce(table_name, ttl_seconds, key_prefix, client)
        self._log = DeliveryLog(table_name, client)  # for `bridgectl trace`, beside the idempotency records

    def register_lambda_context(self, context: Any) -> None:
        self._run_once.register_lambda_context(context)

    def __call__(self, message: VendorMessage) -> bool:
        def deliver() -> dict[str, Any]:
            count_result(self._call(message))
            # The completed record is what `bridgectl trace` shows as delivered: no write of its own.
            return {DELIVERED_AT: time.time()}

        try:
            _, called = self._run_once(message.dedupe_key, deliver)
        except IdempotencyAlreadyInProgressError as exc:
            raise AlreadyInProgress(message.dedupe_key) from exc
        if called and message.resend_state:
            # A sync or a repeated erase: the receiver never listed its id, so the trace
            # finds it only in the log.
            self._log.delivered(message)
        return called


def count_result(result: DeliveryResult | None) -> None:
    """What the vendor said beyond success: it had already done it (Loops' 409 on a reused
    Idempotency-Key, a 404 on erase), or the adapter found nothing to send."""
    if result is None:
        return
    if result.duplicate:
        metrics.add_metric(name="VendorDuplicate", unit=MetricUnit.Count, value=1)
    if result.skipped:
        metrics.add_metric(name="NothingToSend", unit=MetricUnit.Count, value=1)
