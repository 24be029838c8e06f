"""Provider retries are deduplicated on the event id (``idempotency.RunOnce``, 7 days).

The record is completed after SQS accepted every message; a failure deletes it, so the
provider's retry runs the work again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from webhook_bridge.delivery_log import DeliveryLog, receiver_dedupe_key, receiver_prefix
from webhook_bridge.idempotency import RunOnce
from webhook_bridge.receiver.exceptions import EventInProgressError


class EventDeduplicator:
    def __init__(
        self,
        table_name: str,
        ttl_seconds: int,
        provider: str,
        client: Any | None = None,
        log: DeliveryLog | None = None,
    ) -> None:
        self._run_once = RunOnce(table_name, ttl_seconds, receiver_prefix(provider), client)
        self._provider = provider
        self._log = log

    def register_lambda_context(self, context: Any) -> None:
        self._run_once.register_lambda_context(context)

    def __call__(self, event_id: str, process: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            result, processed = self._run_once(receiver_dedupe_key(self._provider, event_id), process)
        except IdempotencyAlreadyInProgressError as exc:
            raise EventInProgressError("this event is being processed; retry later") from exc
        if not processed and self._log is not None:
            self._log.duplicate(self._provider, event_id)
        return result
